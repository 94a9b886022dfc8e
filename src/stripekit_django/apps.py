"""The Django app: handlers and signals are wired when Django is ready."""

from __future__ import annotations

import importlib

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class StripekitConfig(AppConfig):
    """``INSTALLED_APPS += ["stripekit_django"]``."""

    name = "stripekit_django"
    label = "stripekit"
    verbose_name = "Stripe"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .conf import app_option

        for module in app_option("HANDLERS", []):
            importlib.import_module(module)
        # Each installed app's stripe_handlers.py, like admin.py for the admin.
        autodiscover_modules("stripe_handlers")
