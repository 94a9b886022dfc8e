"""Django settings for {{ cookiecutter.project_slug }}: every production setting comes from the
environment (or .env, git-ignored), each documented in .env.example.

Going live changes nothing here: DEBUG is off unless DJANGO_DEBUG=1 (which the
generated .env sets, for running it on your machine), and then the secret key,
hosts and trusted origins must be given; `python manage.py check --deploy` passes.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from . import ROOT, SHOP_NAME, load_env

load_env()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = ROOT
DEBUG = _flag("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set: put one in .env (python -c \"import secrets; "
        "print(secrets.token_urlsafe(50))\" makes one)"
    )
ALLOWED_HOSTS = _list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
# Full origins (https://shop.example) that may post forms: your domain behind HTTPS.
CSRF_TRUSTED_ORIGINS = _list("DJANGO_CSRF_TRUSTED_ORIGINS")
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_TZ = True
ROOT_URLCONF = "{{ cookiecutter.project_slug }}.urls"
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
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [ROOT / "{{ cookiecutter.project_slug }}" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "{{ cookiecutter.project_slug }}.context.shop",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DATABASE", str(ROOT / "shop.sqlite3")),
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT", str(ROOT / "staticfiles"))

if not DEBUG:
    # HTTPS only (what `manage.py check --deploy` asks for). Behind a proxy that ends
    # TLS, set DJANGO_SECURE_PROXY_SSL_HEADER=1 so Django trusts its X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = _flag("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = _flag("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    if _flag("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Django's own sign-in (accounts/login/); a signed-in user is the buyer, their pk the
# reference the billing state keeps their subscriptions and purchases under.
LOGIN_REDIRECT_URL = "/stripe/pricing"
LOGOUT_REDIRECT_URL = "/"
STRIPEKIT = {
    # Keys and the rest come from the environment (.env): STRIPE_SECRET_KEY...
    "PRODUCTS": str(ROOT / "products.toml"),
    "SHOP_NAME": SHOP_NAME,
}
