"""Stripe's test card 4000 0000 0000 0259: the payment goes through, then it is disputed."""

from __future__ import annotations

import pytest
import stripe

from stripekit.emulator import RunningEmulator

DISPUTED = "4000000000000259"
DAY = 86400


def test_a_payment_with_the_dispute_card_is_disputed_after_its_own_events(
    client: stripe.StripeClient, shop
) -> None:
    mark = shop.mark()
    intent = shop.payment(2500, card=DISPUTED)

    assert intent.status == "succeeded"
    assert shop.since(mark)[-4:] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    (dispute,) = client.v1.disputes.list({"payment_intent": intent.id}).data
    assert (dispute.status, dispute.reason, dispute.amount) == (
        "needs_response",
        "fraudulent",
        2500,
    )
    assert dispute.charge == intent.latest_charge
    assert client.v1.charges.retrieve(str(intent.latest_charge)).disputed is True
    assert client.v1.disputes.retrieve(dispute.id).id == dispute.id
    with pytest.raises(stripe.InvalidRequestError, match="charged back"):
        client.v1.refunds.create({"payment_intent": intent.id})


def test_winning_evidence_wins_it(client: stripe.StripeClient, shop) -> None:
    intent = shop.payment(2500, card=DISPUTED)
    (dispute,) = client.v1.disputes.list({"charge": str(intent.latest_charge)}).data
    mark = shop.mark()

    won = client.v1.disputes.update(
        dispute.id, {"evidence": {"uncategorized_text": "winning_evidence"}}
    )

    assert won.status == "won"
    assert won.evidence_details.submission_count == 1
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == [
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]
    assert events[0]["data"]["object"]["status"] == "under_review"
    assert events[0]["data"]["previous_attributes"]["status"] == "needs_response"
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        client.v1.disputes.close(dispute.id)


def test_losing_evidence_or_accepting_loses_it(client: stripe.StripeClient, shop) -> None:
    first = shop.payment(1000, card=DISPUTED)
    second = shop.payment(1000, card=DISPUTED)
    (lost,) = client.v1.disputes.list({"payment_intent": first.id}).data
    (accepted,) = client.v1.disputes.list({"payment_intent": second.id}).data
    mark = shop.mark()
    assert (
        client.v1.disputes.update(
            lost.id, {"evidence": {"uncategorized_text": "losing_evidence"}}
        ).status
        == "lost"
    )
    assert client.v1.disputes.close(accepted.id).status == "lost"
    assert shop.since(mark) == [
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.closed",
    ]


def test_evidence_kept_for_later_does_not_close_it(client: stripe.StripeClient, shop) -> None:
    intent = shop.payment(1000, card=DISPUTED)
    (dispute,) = client.v1.disputes.list({"payment_intent": intent.id}).data
    saved = client.v1.disputes.update(
        dispute.id,
        {"evidence": {"product_description": "A book"}, "submit": False, "metadata": {"k": "v"}},
    )
    assert (saved.status, saved.evidence.product_description) == ("needs_response", "A book")
    assert saved.evidence_details.has_evidence is True
    assert saved.evidence_details.submission_count == 0


def test_an_unanswered_dispute_is_lost_when_its_evidence_is_due(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    intent = shop.payment(1000, card=DISPUTED)
    (dispute,) = client.v1.disputes.list({"payment_intent": intent.id}).data
    due = dispute.evidence_details.due_by
    emulator.advance_clock(days=6)
    assert client.v1.disputes.retrieve(dispute.id).status == "needs_response"
    mark = shop.mark()
    emulator.advance_clock(days=2)
    closed = shop.events_since(mark)
    assert [e["type"] for e in closed] == ["charge.dispute.closed"]
    assert closed[0]["created"] == due  # dated when it fell due, not when the clock stopped
    assert client.v1.disputes.retrieve(dispute.id).status == "lost"
