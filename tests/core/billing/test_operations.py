"""Billing operations against the emulator: state before, the call, the events, state after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from billing_flows import DECLINES_LATER, Flows, feed, make_kit

from stripekit import BillingError, StripeKit, UnknownBillingObjectError
from stripekit import _stripe_api as stripe_api
from stripekit.emulator import RunningEmulator

T = TypeVar("T")


@pytest.fixture
def kit(stripe_emulator: RunningEmulator, products: Path) -> StripeKit:
    return make_kit(stripe_emulator, products)


def subscribed(kit: StripeKit, flows: Flows, user: str, **options: object) -> str:
    sub = flows.subscription_of(flows.checkout(user, "pro", **options))  # type: ignore[arg-type]
    feed(kit, flows)
    return sub


def test_cancel_at_period_end_and_resume(kit: StripeKit, flows: Flows) -> None:
    sub = subscribed(kit, flows, "ada")
    cancelled = kit.billing.cancel(sub, user="ada")
    # Stripe's answer is in the mirror at once, before any event.
    assert cancelled.cancel_at_period_end and cancelled.status == "active"
    assert kit.billing.subscriptions("ada")[0].cancel_at_period_end
    assert feed(kit, flows) == ["customer.subscription.updated"]
    assert kit.billing.subscriptions("ada")[0].cancel_at_period_end
    assert flows.current("subscription", sub)["cancel_at_period_end"] is True
    resumed = kit.billing.resume(sub, user="ada")
    assert not resumed.cancel_at_period_end
    feed(kit, flows)
    assert not kit.billing.subscriptions("ada")[0].cancel_at_period_end
    with pytest.raises(BillingError, match="no cancel to undo"):
        kit.billing.resume(sub, user="ada")


def test_cancel_now(kit: StripeKit, flows: Flows) -> None:
    sub = subscribed(kit, flows, "bob")
    assert kit.billing.cancel_now(sub, user="bob").status == "canceled"
    assert feed(kit, flows) == ["customer.subscription.deleted"]
    assert not kit.billing.is_subscribed("bob")
    with pytest.raises(BillingError, match="canceled already"):
        kit.billing.cancel(sub, user="bob")


def test_another_users_subscription_is_a_404_and_nothing_is_done(
    kit: StripeKit, flows: Flows
) -> None:
    sub = subscribed(kit, flows, "ada")
    for call in (
        lambda: kit.billing.cancel(sub, user="mallory"),
        lambda: kit.billing.cancel_now(sub, user="mallory"),
        lambda: kit.billing.change_plan(sub, "team", user="mallory"),
        lambda: kit.billing.preview_change(sub, "team", user="mallory"),
        lambda: kit.billing.cancel("sub_unknown", user="ada"),
    ):
        with pytest.raises(UnknownBillingObjectError, match="of yours"):
            call()
    current = flows.current("subscription", sub)
    assert (current["status"], current["cancel_at_period_end"]) == ("active", False)
    assert feed(kit, flows) == []  # no call reached Stripe


def test_a_plan_change_bills_what_its_preview_said(kit: StripeKit, flows: Flows) -> None:
    sub = subscribed(kit, flows, "cy")
    flows.advance(10)  # a third of the month used
    feed(kit, flows)
    preview = kit.billing.preview_change(sub, "team", proration="always_invoice", user="cy")
    assert preview.proration > 0 and preview.proration_date is not None
    changed = kit.billing.change_plan(
        sub, "team", proration="always_invoice", proration_date=preview.proration_date, user="cy"
    )
    assert changed.products == ("team",)
    feed(kit, flows)
    invoice = flows.current("invoice", flows.current("subscription", sub)["latest_invoice"])
    prorations = [
        line["amount"]
        for line in invoice["lines"]["data"]
        if (line.get("parent") or {}).get("subscription_item_details", {}).get("proration")
    ]
    assert sum(prorations) == preview.proration
    assert invoice["amount_due"] == preview.amount_due
    assert kit.billing.is_subscribed("cy", "team") and not kit.billing.is_subscribed("cy", "pro")


def test_a_change_left_for_the_next_invoice(kit: StripeKit, flows: Flows) -> None:
    sub = subscribed(kit, flows, "di")
    flows.advance(15)
    preview = kit.billing.preview_change(sub, "team", user="di")
    kit.billing.change_plan(sub, "team", proration_date=preview.proration_date, user="di")
    customer = flows.current("subscription", sub)["customer"]
    pending = flows.client.v1.invoice_items.list({"customer": customer, "pending": True}).data
    assert sum(item.amount for item in pending) == preview.proration
    with pytest.raises(BillingError, match="on that price already"):
        kit.billing.change_plan(sub, "team", user="di")
    with pytest.raises(BillingError, match="one-time purchase"):
        kit.billing.change_plan(sub, "pack", user="di")
    with pytest.raises(BillingError, match="proration must be"):
        kit.billing.change_plan(sub, "pro", proration="later", user="di")  # type: ignore[arg-type]


def test_retry_a_failed_renewal_after_the_card_changes(kit: StripeKit, flows: Flows) -> None:
    sub = subscribed(kit, flows, "eve", price="trial", card=DECLINES_LATER)
    flows.advance(8)  # the trial ends; the charge is declined
    feed(kit, flows)
    (state,) = kit.billing.subscriptions("eve")
    assert (state.status, state.latest_invoice_status) == ("past_due", "open")
    invoice = state.latest_invoice
    assert invoice is not None
    assert kit.billing.retry_payment(invoice, user="eve") == "open"  # declined again
    with pytest.raises(UnknownBillingObjectError):
        kit.billing.retry_payment(invoice, user="mallory")
    # A new card (what the portal does), then the retry goes through.
    customer = flows.current("subscription", sub)["customer"]
    card = flows.client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    flows.client.v1.subscriptions.update(sub, {"default_payment_method": card.id})
    assert kit.billing.retry_payment(invoice, user="eve") == "paid"
    feed(kit, flows)
    (state,) = kit.billing.subscriptions("eve")
    assert (state.status, state.latest_invoice_status) == ("active", "paid")
    with pytest.raises(BillingError, match="only an open invoice"):
        kit.billing.retry_payment(invoice, user="eve")


def test_refunds_of_a_purchase(kit: StripeKit, flows: Flows) -> None:
    session = flows.checkout("fay", "pack", quantity=2)
    feed(kit, flows)
    with pytest.raises(UnknownBillingObjectError):
        kit.billing.refund(session, user="mallory")
    part = kit.billing.refund(session, amount=600, reason="requested_by_customer", user="fay")
    assert (part.amount, part.status) == (600, "succeeded")
    assert feed(kit, flows) == ["charge.refunded", "refund.created"]
    assert kit.billing.purchases("fay")[0].refunded == 600
    rest = kit.billing.refund(session, user="fay")
    assert rest.amount == 1200
    feed(kit, flows)
    assert kit.billing.purchases("fay")[0].fully_refunded
    assert kit.billing.credits.balance("fay") == 0
    with pytest.raises(BillingError, match="positive whole number"):
        kit.billing.refund(session, amount=0, user="fay")
    with pytest.raises(BillingError, match="reason must be"):
        kit.billing.refund(session, reason="because", user="fay")


def test_a_refund_by_payment_intent_checks_its_owner_too(kit: StripeKit, flows: Flows) -> None:
    session = flows.checkout("gil", "book")
    feed(kit, flows)
    intent = flows.current("session", session)["payment_intent"]
    with pytest.raises(UnknownBillingObjectError, match="of yours"):
        kit.billing.refund(intent, user="mallory")
    assert kit.billing.refund(intent, user="gil").amount == 1900


async def test_the_async_twins(kit: StripeKit, flows: Flows) -> None:
    sub = subscribed(kit, flows, "hal")
    assert (await kit.billing.acancel(sub, user="hal")).cancel_at_period_end
    assert not (await kit.billing.aresume(sub, user="hal")).cancel_at_period_end
    preview = await kit.billing.apreview_change(sub, "team", user="hal")
    changed = await kit.billing.achange_plan(
        sub, "team", proration_date=preview.proration_date, user="hal"
    )
    assert changed.products == ("team",)
    assert (await kit.billing.acancel_now(sub, user="hal")).status == "canceled"
    session = flows.checkout("hal", "book")
    feed(kit, flows)
    assert (await kit.billing.arefund(session, user="hal")).amount == 1900
    await kit.aclose()


def test_an_admin_may_act_without_a_user(kit: StripeKit, flows: Flows) -> None:
    sub = flows.subscription_of(flows.checkout("ivy", "pro"))
    # The kit has had no event yet: without user=, the id is acted on as Stripe has it.
    assert kit.billing.cancel(sub).cancel_at_period_end
    assert flows.current("subscription", sub)["cancel_at_period_end"] is True


def test_an_answer_never_overwrites_what_a_newer_event_said(
    kit: StripeKit, flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = subscribed(kit, flows, "jo")
    real = stripe_api.call_stripe

    def and_meanwhile(call: Callable[[], T]) -> T:
        answer = real(call)  # Stripe cancels at period end...
        # ...then, before the answer is written, the user resumes in the portal and
        # both events reach the kit.
        flows.client.v1.subscriptions.update(sub, {"cancel_at_period_end": False})
        feed(kit, flows)
        return answer

    monkeypatch.setattr(stripe_api, "call_stripe", and_meanwhile)
    answered = kit.billing.cancel(sub, user="jo")
    monkeypatch.undo()
    # The call's own answer says what Stripe did; the mirror keeps the newer state.
    assert answered.cancel_at_period_end is False
    assert kit.billing.subscriptions("jo")[0].cancel_at_period_end is False


def test_a_crash_after_stripe_acted_is_repaired_by_its_events(
    kit: StripeKit, flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = subscribed(kit, flows, "kim")
    real = stripe_api.call_stripe

    def then_crash(call: Callable[[], T]) -> T:
        real(call)
        raise ConnectionResetError("the app died before it wrote the answer")

    monkeypatch.setattr(stripe_api, "call_stripe", then_crash)
    with pytest.raises(ConnectionResetError):
        kit.billing.cancel(sub, user="kim")
    monkeypatch.undo()
    assert kit.billing.subscriptions("kim")[0].cancel_at_period_end is False
    assert feed(kit, flows) == ["customer.subscription.updated"]
    assert kit.billing.subscriptions("kim")[0].cancel_at_period_end is True


@pytest.mark.parametrize(
    "hostile",
    ["", "sub_' OR 1=1 --", "sub_" + "x" * 5000, "../../v1/customers", None, 42],
)
def test_hostile_ids_are_unknown_objects(kit: StripeKit, flows: Flows, hostile: object) -> None:
    flows.settle()
    before = len(flows.events)
    for call in (
        lambda: kit.billing.cancel(hostile, user="ada"),  # type: ignore[arg-type]
        lambda: kit.billing.retry_payment(hostile, user="ada"),  # type: ignore[arg-type]
        lambda: kit.billing.refund(hostile, user="ada"),  # type: ignore[arg-type]
    ):
        with pytest.raises(UnknownBillingObjectError):
            call()
    flows.settle()
    assert len(flows.events) == before  # nothing reached Stripe
