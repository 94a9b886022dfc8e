"""Charges and refunds: a payment's charge, refunded in parts until nothing is left."""

from __future__ import annotations

import pytest
import stripe


def test_a_payment_leaves_a_charge_its_intent_names(client: stripe.StripeClient, shop) -> None:
    intent = shop.payment(2500)
    assert intent.latest_charge is not None
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.amount, charge.amount_captured, charge.status, charge.paid) == (
        2500,
        2500,
        "succeeded",
        True,
    )
    assert (charge.payment_intent, charge.customer) == (intent.id, intent.customer)
    assert charge.payment_method == intent.payment_method
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.card is not None
    assert charge.payment_method_details.card.last4 == "4242"
    expanded = client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert isinstance(expanded.latest_charge, stripe.Charge)
    assert expanded.latest_charge.id == charge.id
    assert [c.id for c in client.v1.charges.list({"payment_intent": intent.id}).data] == [charge.id]
    assert [c.id for c in client.v1.charges.list({"customer": str(intent.customer)}).data] == [
        charge.id
    ]


def test_a_partial_refund_then_the_rest(client: stripe.StripeClient, shop) -> None:
    intent = shop.payment(2500)
    charge_id = str(intent.latest_charge)
    mark = shop.mark()

    first = client.v1.refunds.create(
        {"payment_intent": intent.id, "amount": 1000, "reason": "requested_by_customer"}
    )

    assert (first.amount, first.status, first.charge, first.payment_intent) == (
        1000,
        "succeeded",
        charge_id,
        intent.id,
    )
    assert first.reason == "requested_by_customer"
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == ["charge.refunded", "refund.created"]
    assert events[0]["data"]["previous_attributes"] == {"amount_refunded": 0}
    assert events[0]["data"]["object"]["amount_refunded"] == 1000
    assert events[1]["data"]["object"]["id"] == first.id

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"charge": charge_id, "amount": 2000})
    assert too_much.value.http_status == 400
    assert too_much.value.user_message == (
        "Refund amount ($20.00) is greater than unrefunded amount on charge ($15.00)"
    )

    rest = client.v1.refunds.create({"charge": charge_id})

    assert rest.amount == 1500
    after = client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert isinstance(after.latest_charge, stripe.Charge)
    assert (after.latest_charge.amount_refunded, after.latest_charge.refunded) == (2500, True)
    assert shop.since(mark)[2:] == ["charge.refunded", "refund.created"]
    assert shop.events_since(mark)[2]["data"]["previous_attributes"] == {
        "amount_refunded": 1000,
        "refunded": False,
    }
    with pytest.raises(stripe.InvalidRequestError, match="has already been refunded"):
        client.v1.refunds.create({"charge": charge_id})
    listed = client.v1.refunds.list({"payment_intent": intent.id})
    assert [r.id for r in listed.data] == [rest.id, first.id]
    with_refunds = client.v1.charges.retrieve(charge_id, {"expand": ["refunds"]})
    assert with_refunds.refunds is not None
    assert {r.id for r in with_refunds.refunds.data} == {first.id, rest.id}
    assert client.v1.refunds.retrieve(first.id).amount == 1000


def test_a_first_refund_above_the_charge_says_so(client: stripe.StripeClient, shop) -> None:
    intent = shop.payment(1000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 2000})
    assert refused.value.user_message == (
        "Refund amount ($20.00) is greater than charge amount ($10.00)"
    )
    assert refused.value.param == "amount"
    assert client.v1.refunds.list().data == []


def test_what_cannot_be_refunded(client: stripe.StripeClient) -> None:
    unpaid = client.v1.payment_intents.create({"amount": 500, "currency": "usd"})
    cases = [
        ({}, "payment_intent or charge"),
        ({"payment_intent": unpaid.id}, "does not have a successful charge"),
        ({"charge": "ch_nope"}, "No such charge"),
        ({"payment_intent": "pi_nope"}, "No such payment_intent"),
    ]
    for params, message in cases:
        with pytest.raises(stripe.InvalidRequestError, match=message):
            client.v1.refunds.create(params)  # type: ignore[arg-type]


def test_a_refund_s_metadata_is_updated(client: stripe.StripeClient, shop) -> None:
    intent = shop.payment(1000)
    refund = client.v1.refunds.create({"payment_intent": intent.id})
    mark = shop.mark()
    updated = client.v1.refunds.update(refund.id, {"metadata": {"ticket": "42"}})
    assert updated.metadata.to_dict() == {"ticket": "42"}
    assert shop.since(mark) == ["refund.updated"]
