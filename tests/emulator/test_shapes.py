"""Every object the emulator returns has the keys and ``object`` of Stripe's own sample.

fixtures3.json is Stripe's sample of every API object; a key it has that the
emulator's object lacks must be listed, with the reason, in MISSING_KEYS (and so
in docs/emulator.md's table).
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
    intent = client.v1.payment_intents.create({"amount": 100, "currency": "usd"})
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "https://x.test/h", "enabled_events": ["*"]}
    )
    portal = client.v1.billing_portal.sessions.create({"customer": str(session.customer)})
    objects = {
        "product": product,
        "price": monthly,
        "checkout.session": session,
        "item": item,
        "customer": client.v1.customers.retrieve(str(session.customer)),
        "subscription": sub,
        "subscription_item": sub["items"].data[0],
        "invoice": client.v1.invoices.retrieve(str(session.invoice)),
        "payment_intent": intent,
        "webhook_endpoint": endpoint,
        "billing_portal.session": portal,
        "event": client.v1.events.list().data[0],
    }
    return {name: obj.to_dict() for name, obj in objects.items()}


def test_objects_have_the_keys_of_stripes_samples(
    everything: dict[str, dict[str, Any]], stripe_fixtures: dict[str, Any]
) -> None:
    problems = []
    for name, obj in everything.items():
        sample = stripe_fixtures[name]
        if obj.get("object") != sample["object"]:
            problems.append(
                f"{name}: object is {obj.get('object')!r}, Stripe's is {sample['object']!r}"
            )
        missing = set(sample) - set(obj) - set(MISSING_KEYS.get(name, {}))
        if missing:
            problems.append(f"{name}: missing {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_every_listed_missing_key_is_really_missing_and_explained(
    everything: dict[str, dict[str, Any]],
) -> None:
    for name, keys in MISSING_KEYS.items():
        for key, reason in keys.items():
            assert key not in everything[name], f"{name}.{key} is listed as missing but is there"
            assert reason.strip()


def test_the_docs_table_lists_what_is_not_emulated() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| \*\*(.+?)\*\* \| (.+?) \|$", text, re.MULTILINE))
    assert rows == NOT_EMULATED
    for name, keys in MISSING_KEYS.items():
        for key in keys:
            assert f"`{name}.{key}`" in text
