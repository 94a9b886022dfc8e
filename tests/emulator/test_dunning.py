"""Failing renewals: 4000 0000 0000 0341 is saved, then every charge is declined; retries,
then the subscription is canceled or marked unpaid; paying the invoice recovers it."""

from __future__ import annotations

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator

FAILS_LATER = "4000000000000341"
DAY = 86400


def failing_renewal(shop, emulator: RunningEmulator) -> tuple[stripe.Subscription, int]:
    """A subscription whose trial ends on the card that declines: past due; the mark before."""
    sub = shop.subscribe(1500, card=FAILS_LATER, subscription_data={"trial_period_days": 7})
    assert sub.status == "trialing"  # accepted at checkout: nothing was charged
    emulator.advance_clock(days=6)  # trial_will_end went out three days before
    mark = shop.mark()
    emulator.advance_clock(days=1)
    return sub, mark


def test_the_renewal_fails_and_the_subscription_is_past_due(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub, mark = failing_renewal(shop, emulator)

    events = shop.events_since(mark)
    assert [e["type"] for e in events] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    updated = events[-1]["data"]
    assert (updated["object"]["status"], updated["previous_attributes"]["status"]) == (
        "past_due",
        "trialing",
    )
    past_due = client.v1.subscriptions.retrieve(sub.id)
    assert past_due.status == "past_due"
    invoice = client.v1.invoices.retrieve(str(past_due.latest_invoice))
    assert (invoice.status, invoice.attempt_count, invoice.attempted) == ("open", 1, True)
    assert invoice.amount_remaining == 1500
    assert invoice.next_payment_attempt == events[2]["created"] + 3 * DAY
    assert all(e["created"] == invoice.created for e in events)  # the trial's end


def test_retries_on_the_clock_then_the_subscription_is_canceled(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub, _ = failing_renewal(shop, emulator)
    failed_at = shop.latest_invoice(sub.id).status_transitions.finalized_at
    mark = shop.mark()

    emulator.advance_clock(days=30)

    events = [e for e in shop.events_since(mark) if e["type"] != "invoice.created"]
    retries = [e for e in events if e["type"] == "invoice.payment_failed"]
    assert [e["created"] - failed_at for e in retries] == [3 * DAY, 8 * DAY, 15 * DAY]
    assert [e["data"]["object"]["attempt_count"] for e in retries] == [2, 3, 4]
    assert retries[-1]["data"]["object"]["next_payment_attempt"] is None
    deleted = events[events.index(retries[-1]) + 1]
    assert deleted["type"] == "customer.subscription.deleted"
    assert deleted["data"]["object"]["cancellation_details"]["reason"] == "payment_failed"
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", retries[-1]["created"])
    assert len(client.v1.invoices.list({"subscription": sub.id}).data) == 2  # no renewal after


def test_the_dunning_settings_can_mark_it_unpaid(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    answer = httpx.post(
        f"{emulator.url}/_emulator/dunning", data={"retry_days": "2", "then": "unpaid"}
    )
    assert answer.json() == {"retry_days": [2], "then": "unpaid"}
    sub, mark = failing_renewal(shop, emulator)
    emulator.advance_clock(days=2)
    assert shop.since(mark)[-2:] == ["invoice.payment_failed", "customer.subscription.updated"]
    unpaid = client.v1.subscriptions.retrieve(sub.id)
    assert unpaid.status == "unpaid"
    # An unpaid subscription still gets its invoices, but no payment is tried.
    mark = shop.mark()
    emulator.advance_clock(days=30)
    assert shop.since(mark) == [
        "invoice.created",
        "invoice.finalized",
        "customer.subscription.updated",
    ]
    assert httpx.post(f"{emulator.url}/_emulator/dunning", data={"then": "x"}).status_code == 400


def test_paying_the_invoice_recovers_the_subscription(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub, _ = failing_renewal(shop, emulator)
    invoice_id = str(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    with pytest.raises(stripe.CardError) as declined:
        client.v1.invoices.pay(invoice_id)
    assert declined.value.code == "card_declined"
    card = shop.save_card(str(sub.customer), "pm_card_visa")
    mark = shop.mark()

    paid = client.v1.invoices.pay(invoice_id, {"payment_method": card})

    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 1500, 0)
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert events[-1]["data"]["previous_attributes"] == {"status": "past_due"}
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    (payment,) = client.v1.invoice_payments.list({"invoice": invoice_id}).data
    intent = client.v1.payment_intents.retrieve(str(payment.payment.payment_intent))
    assert (intent.status, intent.amount, intent.payment_method) == ("succeeded", 1500, card)
    mark = shop.mark()
    emulator.advance_clock(days=10)  # no retry is left to run
    assert "invoice.payment_failed" not in shop.since(mark)


def test_a_new_default_card_that_fails_makes_the_next_renewal_fail(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1500)
    failing = shop.save_card(str(sub.customer), "pm_card_chargeCustomerFail")
    client.v1.subscriptions.update(sub.id, {"default_payment_method": failing})
    mark = shop.mark()
    emulator.advance_clock(days=32)
    assert shop.since(mark) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"


def test_the_card_that_fails_later_is_declined_when_charged_at_checkout(
    client: stripe.StripeClient, shop
) -> None:
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": shop.price()}],
            "success_url": "https://x.test",
            "customer_email": "a@b.c",
        }
    )
    answer = shop.pay_page(str(session.url), FAILS_LATER)
    assert answer.status_code == 402 and "Your card was declined." in answer.text
    assert client.v1.subscriptions.list().data == []
