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
    from ._errors import (
        BackfillError,
        BillingError,
        CatalogError,
        CheckoutError,
        ConfigurationError,
        DeferredProcessingError,
        EventStoreError,
        InvalidQuantityError,
        MissingExtraError,
        PayloadError,
        PayloadTooLargeError,
        PriceResolutionError,
        SignatureError,
        StripeAPIError,
        StripekitError,
        SyncError,
        UnknownBillingObjectError,
        UnknownEventTypeError,
        UnknownPriceError,
        UnknownProductError,
        UnknownSessionError,
        WebhookError,
    )
    from ._kit import StripeKit
    from ._settings import Settings
    from .billing._memory import MemoryBillingStore
    from .billing._models import (
        CreditEntry,
        Entitlements,
        Purchase,
        PurchaseLine,
        Subscription,
        SubscriptionItem,
    )
    from .billing._operations import Operations, PlanChangePreview, RefundResult
    from .billing._queries import Billing, Credits
    from .billing._sql import SQLBillingStore
    from .billing._store import ALL_ACCOUNTS, BillingStore
    from .catalog._catalog import Catalog, Price, Product, load_catalog
    from .catalog._currencies import format_amount
    from .catalog._prices import PriceResolver
    from .catalog._sync import SyncAction, SyncKind, SyncPlan, apply_sync, plan_sync
    from .catalog._sync_state import read_account
    from .shop._buyer import Buyer
    from .shop._checkout import CheckoutBuilder
    from .shop._intents import PaymentIntents, SubscriptionPayment
    from .shop._pages import Pages
    from .shop._portal import BillingPortal
    from .store._factory import open_store
    from .store._memory import MemoryEventStore
    from .store._sql import SQLEventStore
    from .webhooks._api_versions import ApiVersions
    from .webhooks._backfill import BackfillReport
    from .webhooks._dispatch import Dispatcher, WebhookResult
    from .webhooks._event import Event, parse_event
    from .webhooks._event_types import known_event_types
    from .webhooks._health import HealthReport
    from .webhooks._processing import WebhookProcessor
    from .webhooks._queue import TaskQueue
    from .webhooks._registry import WebhookRegistry
    from .webhooks._signature import verify_signature
    from .webhooks._store import (
        Claim,
        ClaimOutcome,
        EventStatus,
        EventStore,
        StatusBacklog,
        StoreCall,
        StoredEvent,
    )
    from .webhooks._sweep import SweepReport

__version__ = "0.1.0"

# public name -> the module (under stripekit) that defines it
_EXPORTS: dict[str, str] = {
    "ALL_ACCOUNTS": "billing._store",
    "ApiVersions": "webhooks._api_versions",
    "BackfillError": "_errors",
    "BackfillReport": "webhooks._backfill",
    "Billing": "billing._queries",
    "BillingError": "_errors",
    "BillingPortal": "shop._portal",
    "BillingStore": "billing._store",
    "Buyer": "shop._buyer",
    "Catalog": "catalog._catalog",
    "CatalogError": "_errors",
    "CheckoutBuilder": "shop._checkout",
    "CheckoutError": "_errors",
    "Claim": "webhooks._store",
    "ClaimOutcome": "webhooks._store",
    "ConfigurationError": "_errors",
    "CreditEntry": "billing._models",
    "Credits": "billing._queries",
    "DeferredProcessingError": "_errors",
    "Dispatcher": "webhooks._dispatch",
    "Entitlements": "billing._models",
    "HealthReport": "webhooks._health",
    "Event": "webhooks._event",
    "EventStatus": "webhooks._store",
    "EventStore": "webhooks._store",
    "EventStoreError": "_errors",
    "InvalidQuantityError": "_errors",
    "MemoryBillingStore": "billing._memory",
    "MemoryEventStore": "store._memory",
    "MissingExtraError": "_errors",
    "Operations": "billing._operations",
    "Pages": "shop._pages",
    "PayloadError": "_errors",
    "PaymentIntents": "shop._intents",
    "SubscriptionPayment": "shop._intents",
    "PayloadTooLargeError": "_errors",
    "PlanChangePreview": "billing._operations",
    "Price": "catalog._catalog",
    "PriceResolutionError": "_errors",
    "PriceResolver": "catalog._prices",
    "Product": "catalog._catalog",
    "Purchase": "billing._models",
    "PurchaseLine": "billing._models",
    "RefundResult": "billing._operations",
    "SQLBillingStore": "billing._sql",
    "SQLEventStore": "store._sql",
    "Settings": "_settings",
    "SignatureError": "_errors",
    "StatusBacklog": "webhooks._store",
    "StoreCall": "webhooks._store",
    "StoredEvent": "webhooks._store",
    "StripeAPIError": "_errors",
    "StripeKit": "_kit",
    "StripekitError": "_errors",
    "Subscription": "billing._models",
    "SubscriptionItem": "billing._models",
    "SweepReport": "webhooks._sweep",
    "SyncAction": "catalog._sync",
    "SyncError": "_errors",
    "SyncKind": "catalog._sync",
    "SyncPlan": "catalog._sync",
    "TaskQueue": "webhooks._queue",
    "UnknownBillingObjectError": "_errors",
    "UnknownEventTypeError": "_errors",
    "UnknownPriceError": "_errors",
    "UnknownProductError": "_errors",
    "UnknownSessionError": "_errors",
    "WebhookError": "_errors",
    "WebhookProcessor": "webhooks._processing",
    "WebhookRegistry": "webhooks._registry",
    "WebhookResult": "webhooks._dispatch",
    "apply_sync": "catalog._sync",
    "format_amount": "catalog._currencies",
    "known_event_types": "webhooks._event_types",
    "load_catalog": "catalog._catalog",
    "open_store": "store._factory",
    "parse_event": "webhooks._event",
    "plan_sync": "catalog._sync",
    "read_account": "catalog._sync_state",
    "verify_signature": "webhooks._signature",
}

__all__ = [
    "ALL_ACCOUNTS",
    "ApiVersions",
    "BackfillError",
    "BackfillReport",
    "Billing",
    "BillingError",
    "BillingPortal",
    "BillingStore",
    "Buyer",
    "Catalog",
    "CatalogError",
    "CheckoutBuilder",
    "CheckoutError",
    "Claim",
    "ClaimOutcome",
    "ConfigurationError",
    "CreditEntry",
    "Credits",
    "DeferredProcessingError",
    "Dispatcher",
    "Entitlements",
    "Event",
    "EventStatus",
    "EventStore",
    "EventStoreError",
    "HealthReport",
    "InvalidQuantityError",
    "MemoryBillingStore",
    "MemoryEventStore",
    "MissingExtraError",
    "Operations",
    "Pages",
    "PayloadError",
    "PayloadTooLargeError",
    "PaymentIntents",
    "PlanChangePreview",
    "Price",
    "PriceResolutionError",
    "PriceResolver",
    "Product",
    "Purchase",
    "PurchaseLine",
    "RefundResult",
    "SQLBillingStore",
    "SQLEventStore",
    "Settings",
    "SignatureError",
    "StatusBacklog",
    "StoreCall",
    "StoredEvent",
    "StripeAPIError",
    "StripeKit",
    "StripekitError",
    "Subscription",
    "SubscriptionItem",
    "SubscriptionPayment",
    "SweepReport",
    "SyncAction",
    "SyncError",
    "SyncKind",
    "SyncPlan",
    "TaskQueue",
    "UnknownBillingObjectError",
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
