"""The settings of the django-tasks-db worker tests/django/test_tasks.py runs in a
subprocess: the test project's, on the test process's own SQLite file (its path in
STRIPEKIT_WORKER_DATABASE), with the database task backend and deferred processing."""

from __future__ import annotations

import os

from .settings import *  # noqa: F403
from .settings import STRIPEKIT

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["STRIPEKIT_WORKER_DATABASE"],
        "OPTIONS": {"timeout": 30},
    }
}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
STRIPEKIT = {
    **STRIPEKIT,
    "BILLING": False,
    "PROCESSING": "deferred",
    "QUEUE": "stripekit_django.tasks.queue",
}
