"""The settings of the processes tests/django/test_tasks.py runs (the django-tasks-db
worker, and the project served over HTTP): the test project's, on the test process's own
SQLite file (its path in STRIPEKIT_WORKER_DATABASE), with deferred processing on the
database task backend exactly as docs/scale.md's settings.py sets it (read from the page:
"Django's tasks framework")."""

from __future__ import annotations

import os
from importlib.util import find_spec
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from docs_blocks import DOCS, code_blocks, section

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS, STRIPEKIT


def _documented() -> dict[str, Any]:
    """docs/scale.md's settings.py for Django's tasks framework, run."""
    page = (DOCS / "scale.md").read_text(encoding="utf-8")
    part = section(section(page, "## Queue adapters"), "### Django's tasks framework")
    (block,) = [block for block in code_blocks(part) if block.title == "settings.py"]
    namespace: dict[str, Any] = {}
    exec(block.code, namespace)
    return namespace


_PAGE = _documented()
# The page's apps are the project's ("django_tasks" is built into Django 6: the page says
# to leave it out there).
_BUILT_IN = {"django_tasks"} if find_spec("django.tasks") else set()
_MISSING = set(_PAGE["INSTALLED_APPS"]) - set(INSTALLED_APPS) - _BUILT_IN
if _MISSING:
    raise ImproperlyConfigured(f"docs/scale.md's INSTALLED_APPS has {_MISSING}: not installed")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["STRIPEKIT_WORKER_DATABASE"],
        "OPTIONS": {"timeout": 30},
    }
}
TASKS = _PAGE["TASKS"]
STRIPEKIT = {**STRIPEKIT, **_PAGE["STRIPEKIT"], "BILLING": False}
