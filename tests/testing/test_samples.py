"""Sample objects have the keys of Stripe's own samples (fixtures3.json)."""

from __future__ import annotations

from typing import Any

import pytest

from stripekit.testing import make_event, object_name_for_event, sample_object

RESOURCES = [
    "checkout.session",
    "customer",
    "invoice",
    "payment_intent",
    "price",
    "product",
    "subscription",
    "charge",
    "billing_portal.session",
]

# fixtures3.json predates stripe-python 16's API version, which moved these
# (an invoice's subscription now lives under parent.subscription_details).
MOVED_SINCE_THE_FIXTURES = {"invoice": {"subscription"}}


@pytest.mark.parametrize("name", RESOURCES)
def test_sample_has_stripes_keys(stripe_fixtures: dict[str, Any], name: str) -> None:
    real = stripe_fixtures[name]
    sample = sample_object(name)
    missing = set(real) - set(sample) - MOVED_SINCE_THE_FIXTURES.get(name, set())
    assert not missing, f"{name}: keys in Stripe's sample but not ours: {sorted(missing)}"
    assert sample["object"] == real["object"]
    assert sample["id"].split("_")[0] == real["id"].split("_")[0]


def test_nested_objects_are_filled_in(stripe_fixtures: dict[str, Any]) -> None:
    session = sample_object("checkout.session")
    assert set(stripe_fixtures["checkout.session"]["automatic_tax"]) <= set(
        session["automatic_tax"]
    )
    assert session["metadata"] == {}
    assert isinstance(session["customer"], str | None)


@pytest.mark.parametrize(
    ("event_type", "name"),
    [
        ("checkout.session.completed", "checkout.session"),
        ("customer.subscription.updated", "subscription"),
        ("customer.created", "customer"),
        ("invoice.payment_failed", "invoice"),
        ("billing_portal.session.created", "billing_portal.session"),
    ],
)
def test_event_types_map_to_their_objects(event_type: str, name: str) -> None:
    assert object_name_for_event(event_type) == name
    event = make_event(event_type)
    assert event["data"]["object"]["object"] == name
    assert len(event["data"]["object"]) > 2


def test_an_object_stripe_python_does_not_know_is_minimal() -> None:
    sample = sample_object("made_up.thing")
    assert set(sample) == {"id", "object"}
    assert sample["id"].startswith("obj_")
