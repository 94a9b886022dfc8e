"""The project's StripeKit, built once from ``settings.STRIPEKIT`` (and the environment).

``STRIPEKIT`` keys are the core settings in upper case (``SECRET_KEY``,
``PUBLISHABLE_KEY``, ``WEBHOOK_SECRET``, ``PRODUCTS``, ``BASE_URL``, ``API_BASE``...);
a key left out falls back to the same environment variable as the core
(``STRIPE_SECRET_KEY``...). Some keys are the Django app's own: ``HANDLERS``
(modules to import for their ``@webhooks.on`` handlers), ``BUYER`` (the dotted
path of ``buyer(request) -> Buyer | None``), ``CONNECTED_ACCOUNT`` (Connect: the
dotted path of ``connected_account(request) -> str | None``, the connected
account a request's storefront sells for), ``SHOP_NAME`` and ``QUEUE`` (deferred
mode's task queue, or its dotted path: ``stripekit_django.tasks.queue``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

from stripekit import Buyer, ConfigurationError, StripeKit, WebhookRegistry
from stripekit._connect import resolved_account
from stripekit.webhooks._types import Handler

__all__ = [
    "APP_KEYS", "DjangoWebhookRegistry", "account_for", "buyer_for", "get_kit", "kit_options",
    "reset_kit", "webhooks",
]  # fmt: skip

APP_KEYS = frozenset({"HANDLERS", "BUYER", "CONNECTED_ACCOUNT", "SHOP_NAME", "QUEUE"})


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
    if hook is None:
        return default_buyer(request)
    find = cast("Callable[[HttpRequest], Buyer | None]", _hook(hook, 'STRIPEKIT["BUYER"]'))
    return find(request)


_ACCOUNT_SETTING = 'STRIPEKIT["CONNECTED_ACCOUNT"]'


def account_for(request: HttpRequest) -> str | None:
    """The connected account (Connect, ``acct_...``) the request is for, from the project's
    ``STRIPEKIT["CONNECTED_ACCOUNT"]`` hook; None (the platform's own) without one.

    Raises:
        ConfigurationError: the hook does not import, or returned something that is
            neither None nor an ``acct_...`` id (the views answer 500).
    """
    hook = app_option("CONNECTED_ACCOUNT")
    if hook is None:
        return None
    find = _hook(hook, _ACCOUNT_SETTING)
    source = f"{_ACCOUNT_SETTING} ({hook if isinstance(hook, str) else _name(hook)})"
    return resolved_account(find(request), source=source)


def _hook(hook: object, setting: str) -> Callable[[HttpRequest], object]:
    """The function a setting names: itself, or the one its dotted path imports."""
    if isinstance(hook, str):
        try:
            hook = import_string(hook)
        except ImportError as exc:
            raise ConfigurationError(
                f"{setting} = {hook!r} does not import ({exc}): give the dotted path of a "
                "function of the request, e.g. 'shop.stores.connected_account'"
            ) from None
    if not callable(hook):
        raise ConfigurationError(
            f"{setting} is {hook!r}: give a function of the request, or its dotted path"
        )
    found: Callable[[HttpRequest], object] = hook
    return found


def hook_problems() -> list[tuple[str, str]]:
    """The app's own hooks (``BUYER``, ``CONNECTED_ACCOUNT``) that do not import or are not
    functions: (setting, what is wrong), for the system checks."""
    problems = []
    for key in ("BUYER", "CONNECTED_ACCOUNT"):
        hook = app_option(key)
        if hook is None:
            continue
        try:
            _hook(hook, f'STRIPEKIT["{key}"]')
        except ConfigurationError as exc:
            problems.append((key, str(exc)))
    return problems


def queue_problems() -> list[str]:
    """What is wrong with the app's ``QUEUE`` (deferred mode's task queue), for the system
    checks: a dotted path that does not import, or a queue that would refuse the task."""
    queue = app_option("QUEUE")
    if queue is None:
        return []
    if isinstance(queue, str):
        try:
            queue = import_string(queue)
        except ImportError as exc:
            return [f'STRIPEKIT["QUEUE"] = {queue!r} does not import: {exc}']
    check = getattr(queue, "problems", None)
    return list(check()) if callable(check) else []


def _name(hook: object) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)
