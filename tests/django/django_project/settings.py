"""The Django project the stripekit_django tests run in."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET_KEY = "django-insecure-stripekit-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "django_project.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "stripekit_django",
    "shop",
]


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


# The database task backend (django-tasks-db), where installed: its table is in the test
# database, which tests/django/test_tasks.py's real worker (a subprocess) shares. On
# Django 5.2 the django-tasks backport is an app of its own; Django 6 has it built in.
if _importable("django_tasks_db"):
    if _importable("django_tasks") and not _importable("django.tasks"):
        INSTALLED_APPS.append("django_tasks")
    INSTALLED_APPS.append("django_tasks_db")
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(Path(tempfile.gettempdir()) / "stripekit-django-tests.sqlite3"),
        # A file, not Django's shared in-memory test database, whose table locks
        # fail concurrent writers at once instead of waiting.
        "TEST": {
            "NAME": str(
                Path(tempfile.gettempdir()) / f"stripekit-django-test-{os.getpid()}.sqlite3"
            )
        },
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
STRIPEKIT = {
    "SECRET_KEY": "sk_test_django_shop",
    "PUBLISHABLE_KEY": "pk_test_django_shop",
    "WEBHOOK_SECRET": "whsec_django_shop",
    "PRODUCTS": str(Path(__file__).parent / "products.toml"),
    "BASE_URL": "http://testserver",
    "SHOP_NAME": "Django shop",
}


def _postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ).close()
    except Exception:
        return False
    return True


# PostgreSQL, for the concurrency tests, where this machine has it (CI does).
POSTGRES_AVAILABLE = os.environ.get("STRIPEKIT_NO_POSTGRES") != "1" and _postgres_reachable()
if POSTGRES_AVAILABLE:
    DATABASES["pg"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "stripekit_django",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "TEST": {"NAME": f"stripekit_django_test_{os.getpid()}"},
    }
