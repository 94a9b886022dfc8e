"""The project's StripeKit, built once from ``settings.STRIPEKIT`` (and the environment).

``STRIPEKIT`` keys are the core settings in upper case (``SECRET_KEY``,
``PUBLISHABLE_KEY``, ``WEBHOOK_SECRET``, ``PRODUCTS``, ``BASE_URL``, ``API_BASE``...);
a key left out falls back to the same environment variable as the core
(``STRIPE_SECRET_KEY``...). Three keys are the Django app's own: ``HANDLERS``
(modules to import for their ``@webhooks.on`` handlers), ``BUYER`` (the dotted
path of ``buyer(request) -> Buyer | None``), ``SHOP_NAME`` and ``QUEUE`` (deferred
mode's task queue, or its dotted path: ``stripekit_django.tasks.queue``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

from stripekit import Buyer, StripeKit, WebhookRegistry
from stripekit.webhooks._types import Handler

__all__ = [
    "APP_KEYS", "DjangoWebhookRegistry", "buyer_for", "get_kit", "kit_options", "reset_kit",
    "webhooks",
]  # fmt: skip

APP_KEYS = frozenset({"HANDLERS", "BUYER", "SHOP_NAME", "QUEUE"})


class DjangoWebhookRegistry(WebhookRegistry):
    """The core registry, plus the ``stripe_event`` signal for projects that connect to it.

    The signal counts as a handler only while it has receivers, so an event no
    one handles is still recorded as "unhandled".
    """

    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        from .signals import send_stripe_event, stripe_event

        found = super().handlers_for(event_type)
        if stripe_event.has_listeners():
            return (*found, send_stripe_event)
        return found


webhooks = DjangoWebhookRegistry()
"""The project's handlers: ``@webhooks.on("checkout.session.completed")``."""

_kit: StripeKit | None = None
_lock = threading.Lock()


def kit_options() -> dict[str, Any]:
    """``settings.STRIPEKIT`` as core setting values (the app's own keys left out)."""
    raw = getattr(settings, "STRIPEKIT", {}) or {}
    # None means "not set here": the environment may still give it.
    return {
        key.lower(): value
        for key, value in raw.items()
        if key not in APP_KEYS and value is not None
    }


def app_option(name: str, default: Any = None) -> Any:
    """One of the app's own ``STRIPEKIT`` keys."""
    return (getattr(settings, "STRIPEKIT", {}) or {}).get(name, default)


def get_kit() -> StripeKit:
    """The project's StripeKit: the ORM event store and billing mirror, handlers (the
    kit's own first) committed with their event."""
    global _kit
    if _kit is None:
        with _lock:
            if _kit is None:
                from .billing import DjangoBillingStore
                from .store import DjangoEventStore

                store = DjangoEventStore()
                queue = app_option("QUEUE")
                _kit = StripeKit(
                    store=store,
                    billing_store=DjangoBillingStore(),
                    webhooks=webhooks,
                    unit_of_work=store.unit_of_work,
                    queue=import_string(queue) if isinstance(queue, str) else queue,
                    **kit_options(),
                )
    return _kit


def reset_kit() -> None:
    """Forget the kit (settings changed, e.g. in tests)."""
    global _kit
    with _lock:
        _kit = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STRIPEKIT":
        reset_kit()


def default_buyer(request: HttpRequest) -> Buyer | None:
    """The signed-in user: their email prefills Checkout, their pk is the reference."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return Buyer(email=getattr(user, "email", None) or None, reference=str(user.pk))


def buyer_for(request: HttpRequest) -> Buyer | None:
    """The current buyer, from the project's ``STRIPEKIT["BUYER"]`` hook or the default."""
    hook = app_option("BUYER")
    find: Callable[[HttpRequest], Buyer | None] = (
        import_string(hook) if isinstance(hook, str) else hook or default_buyer
    )
    return find(request)
