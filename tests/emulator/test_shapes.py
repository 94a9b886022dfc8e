"""Every object the emulator returns has the keys and ``object`` of Stripe's own sample.

fixtures3.json is Stripe's sample of every API object; a key it has that the
emulator's object lacks (at any depth: ``customer_details.business_name``) must
be listed, with the reason, in MISSING_KEYS (and so in docs/emulator.md's table).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from stripekit.emulator import MISSING_KEYS, NOT_EMULATED, RunningEmulator

DOCS = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


@pytest.fixture
def everything(client: stripe.StripeClient, emulator: RunningEmulator) -> dict[str, dict[str, Any]]:
    """One of each object the emulator makes, as plain dicts, by fixtures3 resource name."""
    product = client.v1.products.create({"name": "Pro"})
    monthly = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
        }
    )
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": monthly.id}],
            "success_url": "https://x.test/ok",
            "customer_email": "a@b.c",
        }
    )
    item = client.v1.checkout.sessions.line_items.list(session.id).data[0]
    httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    session = client.v1.checkout.sessions.retrieve(session.id)
    sub = client.v1.subscriptions.retrieve(str(session.subscription))
    invoice = client.v1.invoices.retrieve(str(session.invoice))
    declined = client.v1.payment_intents.create(
        {"amount": 100, "currency": "usd", "payment_method": "pm_card_chargeDeclined"}
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(declined.id)
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "https://x.test/h", "enabled_events": ["*"]}
    )
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    portal = client.v1.billing_portal.sessions.create({"customer": str(session.customer)})
    client.v1.payment_intents.create(
        {
            "amount": 900,
            "currency": "usd",
            "payment_method": "pm_card_createDispute",
            "confirm": True,
        }
    )
    paid = client.v1.payment_intents.create(
        {"amount": 700, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    refund = client.v1.refunds.create({"payment_intent": paid.id, "amount": 100})
    client.v1.subscriptions.update(
        sub.id, {"items": [{"id": sub["items"].data[0].id, "quantity": 2}]}
    )
    setup = client.v1.checkout.sessions.create(
        {"mode": "setup", "currency": "usd", "customer": str(session.customer), "success_url": "x"}
    )
    httpx.post(str(setup.url), data={"card_number": "4242424242424242"})
    setup_intent = client.v1.setup_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(setup.id).setup_intent)
    )
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": 1_700_000_000})
    objects = {
        "product": product,
        "price": monthly,
        "checkout.session": session,
        "item": item,
        "customer": client.v1.customers.retrieve(str(session.customer)),
        "subscription": sub,
        "subscription_item": sub["items"].data[0],
        "plan": sub["items"].data[0].plan,
        "invoice": invoice,
        "line_item": invoice.lines.data[0],
        "payment_intent": client.v1.payment_intents.retrieve(declined.id),
        "webhook_endpoint": endpoint,
        "deleted_webhook_endpoint": deleted,
        "billing_portal.session": portal,
        "event": client.v1.events.list().data[0],
        "charge": client.v1.charges.retrieve(str(paid.latest_charge)),
        "refund": refund,
        "dispute": client.v1.disputes.list().data[0],
        "payment_method": client.v1.payment_methods.retrieve(str(paid.payment_method)),
        "setup_intent": setup_intent,
        "invoiceitem": client.v1.invoice_items.list().data[0],
        "invoice_payment": client.v1.invoice_payments.list().data[0],
        "test_helpers.test_clock": clock,
    }
    return {name: obj.to_dict() for name, obj in objects.items()}


# Free-form or polymorphic: an event's data.object is whatever the event is about
# (checked against its own sample by the events test).
UNCHECKED = {"metadata", "data.object"}


def missing_keys(obj: dict[str, Any], sample: dict[str, Any], path: str = "") -> list[str]:
    """Keys (dotted, at any depth) of Stripe's sample that ``obj`` lacks."""
    found = []
    for key, expected in sample.items():
        where = f"{path}{key}"
        if key not in obj:
            found.append(where)
            continue
        value = obj[key]
        if key in UNCHECKED or where in UNCHECKED:
            continue
        if isinstance(expected, dict) and isinstance(value, dict):
            found += missing_keys(value, expected, f"{where}.")
        elif (
            isinstance(expected, list)
            and isinstance(value, list)
            and expected
            and value
            and isinstance(expected[0], dict)
            and isinstance(value[0], dict)
        ):
            found += missing_keys(value[0], expected[0], f"{where}[0].")
    return found


def problems_with(name: str, obj: dict[str, Any], sample: dict[str, Any]) -> list[str]:
    problems = []
    if obj.get("object") != sample["object"]:
        problems.append(
            f"{name}: object is {obj.get('object')!r}, Stripe's is {sample['object']!r}"
        )
    missing = [k for k in missing_keys(obj, sample) if k not in MISSING_KEYS.get(name, {})]
    if missing:
        problems.append(f"{name}: missing {missing}")
    return problems


def test_objects_have_the_keys_of_stripes_samples(
    everything: dict[str, dict[str, Any]], stripe_fixtures: dict[str, Any]
) -> None:
    problems = []
    for name, obj in everything.items():
        problems += problems_with(name, obj, stripe_fixtures[name])
    assert not problems, "\n".join(problems)


def test_the_objects_events_carry_have_the_keys_of_stripes_samples(
    everything: dict[str, dict[str, Any]],
    client: stripe.StripeClient,
    emulator: RunningEmulator,
    stripe_fixtures: dict[str, Any],
) -> None:
    emulator.advance_clock(days=32)  # a renewal: customer.subscription.updated, a new invoice
    events = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
    problems, kinds = [], set()
    for event in events:
        data = event.data.to_dict()
        obj = data["object"]
        kinds.add(obj["object"])
        problems += problems_with(
            f"{event.type}: {obj['object']}", obj, stripe_fixtures[obj["object"]]
        )
        if data.get("previous_attributes") is not None:
            assert set(data["previous_attributes"]) <= set(obj), event.type
    assert not problems, "\n".join(problems)
    assert kinds >= {
        "product",
        "price",
        "customer",
        "checkout.session",
        "subscription",
        "invoice",
        "payment_intent",
    }


def test_every_listed_missing_key_is_really_missing_and_explained(
    everything: dict[str, dict[str, Any]], stripe_fixtures: dict[str, Any]
) -> None:
    for name, keys in MISSING_KEYS.items():
        lacking = missing_keys(everything[name], stripe_fixtures[name])
        for key, reason in keys.items():
            assert key in lacking, f"{name}.{key} is listed as missing but is there"
            assert reason.strip()


def test_the_docs_table_lists_what_is_not_emulated() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## What it does not emulate", 1)[1]
    rows = dict(re.findall(r"^\| \*\*(.+?)\*\* \| (.+?) \|$", section, re.MULTILINE))
    # A missing key is a row of its own: | **`invoice.lines.data[0].foo`** | why |
    missing = {
        f"`{name}.{key}`": reason
        for name, keys in MISSING_KEYS.items()
        for key, reason in keys.items()
    }
    assert rows == {**NOT_EMULATED, **missing}
