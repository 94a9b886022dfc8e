"""Scheduled cancellation, paused collection, trials, default cards, canceling with a final
invoice, and resuming a paused subscription."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripekit.emulator import RunningEmulator

DAY = 86400


def end_of(sub: Any) -> int:
    return sub["items"].data[0].current_period_end  # type: ignore[no-any-return]


def test_cancel_at_a_later_period_bills_the_last_part_then_ends(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(3000)
    cancel_at = end_of(sub) + 10 * DAY
    mark = shop.mark()
    scheduled = client.v1.subscriptions.update(sub.id, {"cancel_at": cancel_at})
    assert (scheduled.cancel_at, scheduled.cancel_at_period_end) == (cancel_at, False)
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == ["customer.subscription.updated"]
    assert events[0]["data"]["previous_attributes"]["cancel_at"] is None

    emulator.advance_clock(days=60)

    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", cancel_at)
    last = shop.latest_invoice(sub.id)
    assert last.period_end == cancel_at
    whole = last.lines.data[0].period
    assert 0 < last.amount_paid < 3000  # ten days of a month
    assert whole.end == cancel_at
    assert shop.since(mark)[-1] == "customer.subscription.deleted"


def test_cancel_at_before_the_period_ends(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(3000)
    soon = emulator.emulator.state.clock.now() + 5 * DAY
    with pytest.raises(stripe.InvalidRequestError, match="not emulated: cancel_at"):
        client.v1.subscriptions.update(sub.id, {"cancel_at": soon})
    client.v1.subscriptions.update(sub.id, {"cancel_at": soon, "proration_behavior": "none"})
    emulator.advance_clock(days=6)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", soon)


def test_a_scheduled_cancellation_is_taken_back(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    pending = client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    assert (pending.cancel_at_period_end, pending.cancel_at) == (True, end_of(sub))
    mark = shop.mark()
    kept = client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": False})
    assert (kept.cancel_at_period_end, kept.cancel_at, kept.canceled_at) == (False, None, None)
    (event,) = shop.events_since(mark)
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is True
    emulator.advance_clock(days=32)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


@pytest.mark.parametrize(
    ("behavior", "status", "events"),
    [
        ("void", "void", ["invoice.created", "invoice.voided"]),
        ("keep_as_draft", "draft", ["invoice.created"]),
        (
            "mark_uncollectible",
            "uncollectible",
            ["invoice.created", "invoice.finalized", "invoice.marked_uncollectible"],
        ),
    ],
)
def test_paused_collection_at_renewal(
    client: stripe.StripeClient,
    emulator: RunningEmulator,
    shop,
    behavior: str,
    status: str,
    events: list[str],
) -> None:
    sub = shop.subscribe(1000)
    paused = client.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": behavior}})
    assert paused.pause_collection is not None
    assert (paused.pause_collection.behavior, paused.status) == (behavior, "active")
    mark = shop.mark()
    emulator.advance_clock(days=32)
    assert shop.since(mark) == [*events, "customer.subscription.updated"]
    assert shop.latest_invoice(sub.id).status == status
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_paused_collection_resumes_on_its_date(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    resumes = emulator.emulator.state.clock.now() + 10 * DAY
    client.v1.subscriptions.update(
        sub.id, {"pause_collection": {"behavior": "void", "resumes_at": resumes}}
    )
    mark = shop.mark()
    emulator.advance_clock(days=11)
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == ["customer.subscription.updated"]
    assert events[0]["created"] == resumes
    assert events[0]["data"]["object"]["pause_collection"] is None
    emulator.advance_clock(days=25)
    assert shop.latest_invoice(sub.id).status == "paid"
    taken_back = client.v1.subscriptions.update(sub.id, {"pause_collection": ""})
    assert taken_back.pause_collection is None


def test_a_trial_is_extended_and_one_is_given_to_a_paying_subscription(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    trialing = shop.subscribe(1000, subscription_data={"trial_period_days": 7})
    later = int(trialing.trial_end or 0) + 7 * DAY
    longer = client.v1.subscriptions.update(trialing.id, {"trial_end": later})
    assert (longer.trial_end, end_of(longer), longer.status) == (later, later, "trialing")

    paying = shop.subscribe(3000)
    # The trial starts at the moment the update is handled, which the wall clock may
    # have moved past `before` by then: compare with what the request itself recorded.
    before = emulator.emulator.state.clock.now()
    mark = shop.mark()
    ends = before + 14 * DAY
    free = client.v1.subscriptions.update(paying.id, {"trial_end": ends})
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == ["invoiceitem.created", "customer.subscription.updated"]
    started = events[-1]["created"]  # the update's own moment (the clock held still in it)
    assert before <= started <= emulator.emulator.state.clock.now()
    assert (free.status, free.trial_start, free.trial_end, end_of(free)) == (
        "trialing", started, ends, ends,
    )  # fmt: skip
    (credit,) = client.v1.invoice_items.list({"customer": str(paying.customer)}).data
    # The unused part of the paid month, from the trial's start: all of it, give or take
    # the seconds the test took (Stripe rounds half up to the cent).
    period = paying["items"].data[0]
    unused, whole = end_of(paying) - started, end_of(paying) - period.current_period_start
    assert credit.amount == -((2 * 3000 * unused + whole) // (2 * whole))
    assert credit.period.start == started
    with pytest.raises(stripe.InvalidRequestError, match="in the future"):
        client.v1.subscriptions.update(paying.id, {"trial_end": started - 1})


def test_the_default_payment_method_must_be_the_customer_s_and_is_charged(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    stranger = client.v1.customers.create({"email": "eve@x.test"})
    theirs = shop.save_card(stranger.id, "pm_card_mastercard")
    with pytest.raises(stripe.InvalidRequestError, match="must be attached to the customer"):
        client.v1.subscriptions.update(sub.id, {"default_payment_method": theirs})
    with pytest.raises(stripe.InvalidRequestError, match="must be attached to the customer"):
        client.v1.subscriptions.update(sub.id, {"default_payment_method": "pm_card_visa"})
    mine = shop.save_card(str(sub.customer), "pm_card_mastercard")
    changed = client.v1.subscriptions.update(sub.id, {"default_payment_method": mine})
    assert changed.default_payment_method == mine
    emulator.advance_clock(days=32)
    (payment,) = client.v1.invoice_payments.list(
        {"invoice": str(client.v1.subscriptions.retrieve(sub.id).latest_invoice)}
    ).data
    intent = client.v1.payment_intents.retrieve(str(payment.payment.payment_intent))
    assert intent.payment_method == mine


def test_the_customer_s_default_card_pays_when_the_subscription_has_none(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(
        1000,
        card="",
        payment_method_collection="if_required",
        subscription_data={"trial_period_days": 3},
    )
    assert sub.default_payment_method is None
    card = shop.save_card(str(sub.customer), "pm_card_visa")
    customer = client.v1.customers.update(
        str(sub.customer), {"invoice_settings": {"default_payment_method": card}}
    )
    assert customer.invoice_settings.default_payment_method == card
    emulator.advance_clock(days=4)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert shop.latest_invoice(sub.id).status == "paid"


def test_canceling_now_with_a_prorated_final_invoice(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(3000)
    emulator.advance_clock(seconds=(end_of(sub) - sub["items"].data[0].current_period_start) // 3)
    mark = shop.mark()
    canceled = client.v1.subscriptions.cancel(
        sub.id,
        {
            "invoice_now": True,
            "prorate": True,
            "cancellation_details": {"comment": "too pricey", "feedback": "too_expensive"},
        },
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_details is not None
    assert canceled.cancellation_details.feedback == "too_expensive"
    assert shop.since(mark) == [
        "invoiceitem.created",
        "invoice.created",
        "invoice.finalized",
        "customer.updated",  # the credit: the customer's balance
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.deleted",
    ]
    final = client.v1.invoices.retrieve(str(canceled.latest_invoice))
    assert final.total == -2000  # two thirds of the month unused
    assert client.v1.customers.retrieve(str(sub.customer)).balance == -2000


def test_a_trial_without_a_card_pauses_then_resumes_with_one(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(
        1000,
        card="",
        payment_method_collection="if_required",
        subscription_data={
            "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        },
    )
    with pytest.raises(stripe.InvalidRequestError, match="only a paused subscription"):
        client.v1.subscriptions.resume(sub.id)
    mark = shop.mark()
    emulator.advance_clock(days=8)
    assert shop.since(mark) == [
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "customer.subscription.paused",
    ]
    assert client.v1.subscriptions.retrieve(sub.id).status == "paused"
    emulator.advance_clock(days=40)  # a paused subscription makes no invoices
    assert len(client.v1.invoices.list({"subscription": sub.id}).data) == 1

    setup = shop.checkout(None, mode="setup", customer=str(sub.customer))
    intent = client.v1.setup_intents.retrieve(str(setup.setup_intent))
    client.v1.subscriptions.update(sub.id, {"default_payment_method": str(intent.payment_method)})
    mark = shop.mark()
    resumed = client.v1.subscriptions.resume(sub.id, {"billing_cycle_anchor": {"type": "now"}})

    assert resumed.status == "active"
    assert shop.since(mark) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
        "customer.subscription.resumed",
    ]
    # The new period starts at the resume's own moment: its invoice's, not the clock's now
    # (which may have ticked since).
    invoice = client.v1.invoices.retrieve(str(resumed.latest_invoice))
    assert resumed["items"].data[0].current_period_start == invoice.created


def test_a_canceled_subscription_keeps_only_metadata_changes(
    client: stripe.StripeClient, shop
) -> None:
    sub = shop.subscribe(1000)
    client.v1.subscriptions.cancel(sub.id)
    assert client.v1.subscriptions.update(sub.id, {"metadata": {"a": "1"}}).metadata["a"] == "1"
    with pytest.raises(stripe.InvalidRequestError, match="canceled subscription"):
        client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
