"""A local, stateful stand-in for Stripe's API: checkout → payment → signed webhooks, offline.

Point stripe-python (or an app, with ``STRIPE_API_BASE``) at it and use any
``sk_test_`` key. Start it with ``stripekit emulator`` or, in tests, with
:func:`run_emulator` (or the ``stripe_emulator`` pytest fixture).

Example:
    >>> import stripe
    >>> from stripekit.emulator import run_emulator
    >>> with run_emulator() as emulator:
    ...     client = stripe.StripeClient("sk_test_123", base_addresses={"api": emulator.api_base})
    ...     client.v1.products.create({"name": "Pro"}).object
    'product'
"""

from __future__ import annotations

# Importing the resource modules registers their routes.
from . import (  # noqa: F401
    _accounts,
    _catalog_api,
    _charges,
    _checkout_api,
    _checkout_pay,
    _customers,
    _disputes,
    _dunning,
    _endpoints,
    _first_invoice,
    _invoices_api,
    _payment_changes,
    _payment_methods,
    _payments,
    _refunds,
    _subscription_updates,
    _subscriptions,
    _test_clocks,
)
from ._cards import TEST_CARDS, TestCard
from ._core import Emulator
from ._delivery import Delivery
from ._not_emulated import MISSING_KEYS, NOT_EMULATED
from ._server import DEFAULT_PORT, RunningEmulator, run_emulator, serve
from ._trigger import TriggerError, trigger

__all__ = [
    "DEFAULT_PORT",
    "MISSING_KEYS",
    "NOT_EMULATED",
    "TEST_CARDS",
    "Delivery",
    "Emulator",
    "RunningEmulator",
    "TestCard",
    "TriggerError",
    "run_emulator",
    "serve",
    "trigger",
]
