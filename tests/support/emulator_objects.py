"""Fetching any object an emulator's event names, as the API sends it (tests of the emulator)."""

from __future__ import annotations

from typing import Any

import httpx

PATHS = {
    "charge": "/v1/charges",
    "checkout.session": "/v1/checkout/sessions",
    "customer": "/v1/customers",
    "dispute": "/v1/disputes",
    "invoice": "/v1/invoices",
    "invoiceitem": "/v1/invoiceitems",
    "payment_intent": "/v1/payment_intents",
    "price": "/v1/prices",
    "product": "/v1/products",
    "refund": "/v1/refunds",
    "setup_intent": "/v1/setup_intents",
    "subscription": "/v1/subscriptions",
    "test_helpers.test_clock": "/v1/test_helpers/test_clocks",
}
"""Where each kind of object an event carries is retrieved."""


def fetch(api_base: str, obj: dict[str, Any]) -> httpx.Response:
    """``GET`` the object (the raw answer: its JSON is what a webhook would carry)."""
    return httpx.get(
        f"{api_base}{PATHS[obj['object']]}/{obj['id']}",
        headers={"Authorization": "Bearer sk_test_emulator_objects"},
    )
