"""Every list Stripe filters by ``created`` filters by it in the emulator too."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator
from stripekit.emulator._params import _fields
from stripekit.emulator._routes import ROUTES

Make = Callable[[stripe.StripeClient, RunningEmulator], dict[str, Any]]
"""Makes one object the list shows; returns the list's query that finds it."""


def _price(client: stripe.StripeClient, recurring: bool = False) -> stripe.Price:
    params: dict[str, Any] = {"product_data": {"name": "P"}, "currency": "usd", "unit_amount": 500}
    if recurring:
        params["recurring"] = {"interval": "month"}
    return client.v1.prices.create(params)  # type: ignore[arg-type]


def _subscription(client: stripe.StripeClient) -> stripe.checkout.Session:
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": _price(client, recurring=True).id}],
            "success_url": "https://x.test",
            "customer_email": "a@b.c",
        }
    )
    httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    return client.v1.checkout.sessions.retrieve(session.id)


def _paid(client: stripe.StripeClient, card: str = "pm_card_visa") -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        {"amount": 500, "currency": "usd", "payment_method": card, "confirm": True}
    )


def _invoice_item(client: stripe.StripeClient) -> str:
    sub = client.v1.subscriptions.retrieve(str(_subscription(client).subscription))
    client.v1.subscriptions.update(
        sub.id, {"items": [{"id": sub["items"].data[0].id, "quantity": 2}]}
    )
    return client.v1.invoice_items.list({"limit": 1}).data[0].id


def _setup_intent(client: stripe.StripeClient) -> str:
    customer = client.v1.customers.create({"email": "a@b.c"})
    session = client.v1.checkout.sessions.create(
        {"mode": "setup", "currency": "usd", "customer": customer.id, "success_url": "x"}
    )
    httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    return str(client.v1.checkout.sessions.retrieve(session.id).setup_intent)


def _invoice_payment(client: stripe.StripeClient) -> str:
    invoice = str(_subscription(client).invoice)
    return client.v1.invoice_payments.list({"invoice": invoice}).data[0].id


def _event(client: stripe.StripeClient) -> str:
    client.v1.products.create({"name": "P"})
    return client.v1.events.list({"limit": 1}).data[0].id


MAKERS: dict[str, Make] = {
    "/v1/accounts": lambda c, e: {"id": c.v1.accounts.create({"type": "express"}).id},
    "/v1/products": lambda c, e: {"id": c.v1.products.create({"name": "P"}).id},
    "/v1/prices": lambda c, e: {"id": _price(c).id},
    "/v1/customers": lambda c, e: {"id": c.v1.customers.create({"email": "a@b.c"}).id},
    "/v1/events": lambda c, e: {"id": _event(c)},
    "/v1/checkout/sessions": lambda c, e: {
        "id": c.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": [{"price": _price(c).id}], "success_url": "x"}
        ).id
    },
    "/v1/payment_intents": lambda c, e: {
        "id": c.v1.payment_intents.create({"amount": 100, "currency": "usd"}).id
    },
    "/v1/subscriptions": lambda c, e: {"id": str(_subscription(c).subscription)},
    "/v1/invoices": lambda c, e: {"id": str(_subscription(c).invoice)},
    "/v1/charges": lambda c, e: {"id": str(_paid(c).latest_charge)},
    "/v1/refunds": lambda c, e: {"id": c.v1.refunds.create({"payment_intent": _paid(c).id}).id},
    "/v1/disputes": lambda c, e: {
        "id": c.v1.disputes.list({"payment_intent": _paid(c, "pm_card_createDispute").id})
        .data[0]
        .id
    },
    "/v1/invoiceitems": lambda c, e: {"id": _invoice_item(c)},
    "/v1/setup_intents": lambda c, e: {"id": _setup_intent(c)},
    "/v1/invoice_payments": lambda c, e: {"id": _invoice_payment(c)},
}


def lists_filtered_by_created() -> list[str]:
    return sorted(
        r.path
        for r in ROUTES
        if r.method == "GET" and r.params is not None and "created" in _fields(r.params)
    )


def test_every_list_filtered_by_created_is_tested() -> None:
    assert sorted(MAKERS) == lists_filtered_by_created()


@pytest.mark.parametrize("path", sorted(MAKERS))
def test_the_created_filter(
    path: str, client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    first = MAKERS[path](client, emulator)["id"]
    emulator.advance_clock(seconds=100)
    second = MAKERS[path](client, emulator)["id"]

    def ids(created: Any) -> set[str]:
        answer = client.raw_request("get", path, created=created, limit=100)
        return {o["id"] for o in client.deserialize(answer, api_mode="V1")["data"]}

    everything = ids({"gte": 0})
    assert {first, second} <= everything
    made = retrieve(client, path, first)
    made_first = typing.cast(int, made.get("created", made.get("date")))
    assert first in ids({"lte": made_first}) and second not in ids({"lte": made_first})
    assert first not in ids({"gt": made_first}) and second in ids({"gt": made_first})
    assert first in ids({"lt": made_first + 100}) and second not in ids({"lt": made_first + 100})
    assert second in ids({"gte": made_first + 100}) and first not in ids({"gte": made_first + 100})
    assert first in ids(made_first) and second not in ids(made_first)


def retrieve(client: stripe.StripeClient, path: str, object_id: str) -> dict[str, Any]:
    answer = client.raw_request("get", f"{path}/{object_id}")
    return client.deserialize(answer, api_mode="V1").to_dict()  # type: ignore[no-any-return]
