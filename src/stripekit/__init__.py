"""stripekit: a complete, safe Stripe Checkout + webhooks integration for any Python web app.

Importing this package is cheap: every name below is loaded on first use, so
``import stripekit`` pulls in neither ``stripe``, SQLAlchemy nor a web framework.

Example:
    >>> import stripekit
    >>> webhooks = stripekit.WebhookRegistry()
    >>> @webhooks.on("checkout.session.completed")
    ... def fulfil(event: stripekit.Event) -> None:
    ...     print("paid:", event.object["id"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog import Catalog, Price, Product, load_catalog
    from ._checkout import CheckoutBuilder
    from ._currencies import format_amount
    from ._dispatch import Dispatcher, WebhookResult
    from ._errors import (
        CatalogError,
        CheckoutError,
        ConfigurationError,
        EventStoreError,
        InvalidQuantityError,
        PayloadError,
        PayloadTooLargeError,
        PriceResolutionError,
        SignatureError,
        StripeAPIError,
        StripekitError,
        SyncError,
        UnknownEventTypeError,
        UnknownPriceError,
        UnknownProductError,
        UnknownSessionError,
        WebhookError,
    )
    from ._event import Event, parse_event
    from ._event_types import known_event_types
    from ._kit import StripeKit
    from ._portal import BillingPortal
    from ._prices import PriceResolver
    from ._processing import WebhookProcessor
    from ._registry import WebhookRegistry
    from ._settings import Settings
    from ._shop import Buyer
    from ._signature import verify_signature
    from ._store import Claim, ClaimOutcome, EventStatus, EventStore, StoredEvent
    from ._store_factory import open_store
    from ._store_memory import MemoryEventStore
    from ._store_sql import SQLEventStore
    from ._sync import SyncAction, SyncKind, SyncPlan, apply_sync, plan_sync
    from ._sync_state import read_account

__version__ = "0.1.0"

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    "BillingPortal": "_portal",
    "Catalog": "_catalog",
    "CatalogError": "_errors",
    "CheckoutBuilder": "_checkout",
    "CheckoutError": "_errors",
    "Claim": "_store",
    "ClaimOutcome": "_store",
    "ConfigurationError": "_errors",
    "Event": "_event",
    "EventStatus": "_store",
    "EventStore": "_store",
    "EventStoreError": "_errors",
    "SyncError": "_errors",
    "UnknownSessionError": "_errors",
    "Buyer": "_shop",
    "SyncAction": "_sync",
    "SyncKind": "_sync",
    "SyncPlan": "_sync",
    "apply_sync": "_sync",
    "plan_sync": "_sync",
    "read_account": "_sync_state",
    "InvalidQuantityError": "_errors",
    "MemoryEventStore": "_store_memory",
    "PayloadError": "_errors",
    "PayloadTooLargeError": "_errors",
    "Price": "_catalog",
    "PriceResolutionError": "_errors",
    "PriceResolver": "_prices",
    "Product": "_catalog",
    "SQLEventStore": "_store_sql",
    "Settings": "_settings",
    "SignatureError": "_errors",
    "StoredEvent": "_store",
    "StripeAPIError": "_errors",
    "StripeKit": "_kit",
    "StripekitError": "_errors",
    "UnknownEventTypeError": "_errors",
    "UnknownPriceError": "_errors",
    "UnknownProductError": "_errors",
    "WebhookError": "_errors",
    "WebhookProcessor": "_processing",
    "Dispatcher": "_dispatch",
    "WebhookRegistry": "_registry",
    "WebhookResult": "_dispatch",
    "format_amount": "_currencies",
    "known_event_types": "_event_types",
    "load_catalog": "_catalog",
    "open_store": "_store_factory",
    "parse_event": "_event",
    "verify_signature": "_signature",
}

__all__ = [
    "BillingPortal",
    "Buyer",
    "Catalog",
    "CatalogError",
    "CheckoutBuilder",
    "CheckoutError",
    "Claim",
    "ClaimOutcome",
    "ConfigurationError",
    "Dispatcher",
    "Event",
    "EventStatus",
    "EventStore",
    "EventStoreError",
    "InvalidQuantityError",
    "MemoryEventStore",
    "PayloadError",
    "PayloadTooLargeError",
    "Price",
    "PriceResolutionError",
    "PriceResolver",
    "Product",
    "SQLEventStore",
    "Settings",
    "SignatureError",
    "StoredEvent",
    "StripeAPIError",
    "StripeKit",
    "StripekitError",
    "SyncAction",
    "SyncError",
    "SyncKind",
    "SyncPlan",
    "UnknownEventTypeError",
    "UnknownPriceError",
    "UnknownProductError",
    "UnknownSessionError",
    "WebhookError",
    "WebhookProcessor",
    "WebhookRegistry",
    "WebhookResult",
    "apply_sync",
    "format_amount",
    "known_event_types",
    "load_catalog",
    "open_store",
    "parse_event",
    "plan_sync",
    "read_account",
    "verify_signature",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stripekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
