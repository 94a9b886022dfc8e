"""The billing state, path by path, through the kit: events from the emulator in, queries out."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from billing_flows import (
    DECLINES_LATER,
    DISPUTED,
    WEBHOOK_SECRET,
    Flows,
    adeliver,
    deliver,
    make_kit,
)

from stripekit import Billing, Buyer, ConfigurationError, Event, StripeKit
from stripekit.emulator import RunningEmulator
from stripekit.shop._views import CheckoutRequest, start_checkout
from stripekit.testing import sign_payload


@pytest.fixture
def kit(stripe_emulator: RunningEmulator, products: Path) -> StripeKit:
    return make_kit(stripe_emulator, products)


def feed(kit: StripeKit, flows: Flows, *, types: tuple[str, ...] = ()) -> None:
    """Deliver the events the kit has not had yet (only ``types``, if given), in order."""
    done = kit.__dict__.setdefault("_fed", set())
    for body, event_type in flows.events:
        event_id = json.loads(body)["id"]
        if event_id in done or (types and not event_type.startswith(types)):
            continue
        done.add(event_id)
        assert deliver(kit, body).status == 200


# -- subscriptions --------------------------------------------------------------------------


def test_a_trial_then_the_first_paid_period(kit: StripeKit, flows: Flows) -> None:
    session = flows.checkout("ada", "pro", price="trial")
    feed(kit, flows)
    (sub,) = kit.billing.subscriptions("ada")
    assert (sub.status, sub.products, sub.user) == ("trialing", ("pro",), "ada")
    assert sub.trial_end is not None and sub.trial_end - sub.trial_start == timedelta(days=7)
    assert sub.id == flows.subscription_of(session)
    assert kit.billing.is_subscribed("ada") and kit.billing.is_subscribed("ada", "pro")
    assert not kit.billing.is_subscribed("ada", "team")
    assert kit.billing.entitlements("ada").features == {"Unlimited projects", "Priority support"}
    assert "pro" in kit.billing.entitlements("ada")
    assert kit.billing.credits.balance("ada") == 0  # a trial's $0 invoice grants nothing
    flows.advance(8)
    feed(kit, flows)
    (sub,) = kit.billing.subscriptions("ada")
    assert (sub.status, sub.latest_invoice_status) == ("active", "paid")
    assert kit.billing.credits.balance("ada") == 100  # the first paid period
    assert not kit.billing.is_subscribed("nobody")


def test_scheduled_cancel_undo_and_cancel_now(kit: StripeKit, flows: Flows) -> None:
    sub_id = flows.subscription_of(flows.checkout("bob", "pro"))
    flows.cancel_at_period_end(sub_id)
    feed(kit, flows)
    (sub,) = kit.billing.subscriptions("bob")
    assert sub.cancel_at_period_end and sub.status == "active"
    assert kit.billing.is_subscribed("bob", "pro")  # until the period ends
    flows.cancel_at_period_end(sub_id, False)
    feed(kit, flows)
    assert not kit.billing.subscriptions("bob")[0].cancel_at_period_end
    flows.cancel_now(sub_id)
    feed(kit, flows)
    (sub,) = kit.billing.subscriptions("bob")
    assert sub.status == "canceled" and sub.ended_at is not None
    assert (
        not kit.billing.is_subscribed("bob") and kit.billing.entitlements("bob").products == set()
    )


def test_a_plan_change_moves_the_entitlements(kit: StripeKit, flows: Flows) -> None:
    sub_id = flows.subscription_of(flows.checkout("ada", "pro"))
    flows.change_plan(sub_id, "bill_team_monthly")
    feed(kit, flows)
    assert kit.billing.subscriptions("ada")[0].products == ("team",)
    assert kit.billing.is_subscribed("ada", "team") and not kit.billing.is_subscribed("ada", "pro")
    assert "Shared workspaces" in kit.billing.entitlements("ada")


def test_past_due_gives_access_only_within_the_grace_period(kit: StripeKit, flows: Flows) -> None:
    sub_id = flows.subscription_of(flows.checkout("dee", "pro", price="trial", card=DECLINES_LATER))
    flows.advance(8)  # the trial ends; the first charge is declined
    feed(kit, flows)
    (sub,) = kit.billing.subscriptions("dee")
    assert (sub.status, sub.latest_invoice_status) == ("past_due", "open")
    started = sub.current_period_start
    assert started is not None

    def billing_at(days: float) -> Billing:
        return Billing(kit.billing_store, kit.billing.keys, grace=timedelta(days=3),
                       clock=lambda: started + timedelta(days=days))  # fmt: skip

    assert billing_at(2).is_subscribed("dee", "pro")
    assert not billing_at(4).is_subscribed("dee", "pro")
    flows.pay_open_invoice(sub_id)  # a new card: paid, active again
    feed(kit, flows)
    assert kit.billing.subscriptions("dee")[0].status == "active"
    assert billing_at(4).is_subscribed("dee", "pro")


# -- one-time purchases ---------------------------------------------------------------------


def test_a_purchase_its_lines_credits_and_refunds(kit: StripeKit, flows: Flows) -> None:
    session = flows.checkout("ada", "pack", quantity=3)
    flows.checkout("ada", "book")
    feed(kit, flows)
    purchases = {p.products[0]: p for p in kit.billing.purchases("ada")}
    pack = purchases["pack"]
    assert (pack.id, pack.status, pack.amount_total, pack.currency) == (
        session,
        "paid",
        2700,
        "usd",
    )
    (line,) = pack.lines
    assert (line.product, line.quantity, line.amount_total) == ("pack", 3, 2700)
    assert kit.billing.has_purchased("ada", "book") and kit.billing.has_purchased("ada", "pack")
    assert "The book, as a PDF" in kit.billing.entitlements("ada")
    assert kit.billing.credits.balance("ada") == 150
    flows.refund(session, 900)  # a third back: a third of the credits taken back
    feed(kit, flows)
    assert kit.billing.credits.balance("ada") == 100
    pack = next(p for p in kit.billing.purchases("ada") if p.id == session)
    assert pack.refunded == 900 and not pack.fully_refunded
    flows.refund(session)  # the rest
    feed(kit, flows)
    assert kit.billing.credits.balance("ada") == 0
    assert not kit.billing.has_purchased("ada", "pack") and kit.billing.has_purchased("ada", "book")
    sources = [entry.source for entry in kit.billing.credits.history("ada")]
    assert sources[-1] == f"checkout:{session}:pack" and sources[0].startswith("clawback:")


def test_clawback_can_be_turned_off(
    stripe_emulator: RunningEmulator, products: Path, flows: Flows
) -> None:
    kit = make_kit(stripe_emulator, products, credits_clawback=False)
    session = flows.checkout("ada", "pack", quantity=2)
    flows.refund(session)
    feed(kit, flows)
    assert kit.billing.credits.balance("ada") == 100
    assert kit.billing.purchases("ada")[0].fully_refunded


def test_a_disputed_payment(kit: StripeKit, flows: Flows) -> None:
    flows.checkout("cy", "book", card=DISPUTED)
    feed(kit, flows)
    (purchase,) = kit.billing.purchases("cy")
    assert purchase.dispute == "needs_response"
    assert kit.billing.has_purchased("cy", "book")  # until the dispute is lost
    flows.advance(8)  # no evidence by the due date: lost
    feed(kit, flows)
    assert kit.billing.purchases("cy")[0].dispute == "lost"
    assert not kit.billing.has_purchased("cy", "book")


def test_a_delayed_payment_is_not_a_purchase_until_it_succeeds(
    kit: StripeKit, flows: Flows
) -> None:
    # The emulator has no delayed payment methods: the events are built from a real
    # (paid) session, with the states Stripe gives such a session on the way.
    session_id = flows.checkout("eve", "pack")
    session = flows.current("session", session_id)
    unpaid = {**session, "payment_status": "unpaid"}
    steps = [
        ("checkout.session.completed", unpaid, 100),
        ("checkout.session.async_payment_succeeded", session, 200),
    ]
    _deliver_made(kit, steps[:1])
    assert kit.billing.purchases("eve")[0].status == "pending"
    assert not kit.billing.has_purchased("eve", "pack") and kit.billing.credits.balance("eve") == 0
    _deliver_made(kit, steps[1:])
    assert kit.billing.purchases("eve")[0].status == "paid"
    assert kit.billing.credits.balance("eve") == 50


def test_a_delayed_payment_that_fails(kit: StripeKit, flows: Flows) -> None:
    session = {
        **flows.current("session", flows.checkout("fay", "pack")),
        "payment_status": "unpaid",
    }
    steps = [
        ("checkout.session.async_payment_failed", session, 200),
        ("checkout.session.completed", session, 100),  # late: the failure stays
    ]
    _deliver_made(kit, steps)
    assert kit.billing.purchases("fay")[0].status == "failed"
    assert kit.billing.credits.balance("fay") == 0


def _deliver_made(kit: StripeKit, steps: list[tuple[str, dict[str, Any], int]]) -> None:
    for event_type, obj, created in steps:
        body = json.dumps({
            "id": f"evt_{event_type}_{obj['id']}", "object": "event", "type": event_type,
            "created": obj["created"] + created, "livemode": False, "data": {"object": obj},
        }).encode()  # fmt: skip
        assert (
            kit.handle_webhook(
                body, {"Stripe-Signature": sign_payload(body, WEBHOOK_SECRET)}
            ).status
            == 200
        )


# -- customers and users --------------------------------------------------------------------


def test_what_comes_before_the_link_becomes_the_users_once_it_appears(
    kit: StripeKit, flows: Flows
) -> None:
    # A checkout the app made itself, without the kit: its subscription and invoices
    # name no user, only the checkout's client_reference_id does.
    session = flows.checkout("gus", "pro", via_kit=False)
    feed(kit, flows, types=("customer.", "invoice."))  # they came first
    customer = flows.current("session", session)["customer"]
    assert kit.billing.subscriptions("gus") == [] and kit.billing.credits.balance("gus") == 0
    assert kit.billing.store.run(lambda tx: tx.balance(f"customer:{customer}")) == 100
    feed(kit, flows)  # then the checkout's: the link, and all that was kept under the customer
    assert kit.billing.is_subscribed("gus", "pro")
    assert kit.billing.credits.balance("gus") == 100


def test_checkout_reuses_the_customer_linked_to_the_user(kit: StripeKit, flows: Flows) -> None:
    first = flows.checkout("hal", "book")
    feed(kit, flows)
    customer = flows.current("session", first)["customer"]
    assert kit.billing.customer_for("hal") == customer
    session = start_checkout(kit, CheckoutRequest("pack", None, 1), Buyer(reference="hal"))
    assert session.customer == customer
    anonymous = start_checkout(kit, CheckoutRequest("pack", None, 1), None)
    assert anonymous.customer is None


# -- the kit's handlers and the app's -------------------------------------------------------


def test_an_app_handler_sees_the_state_its_event_produced(
    stripe_emulator: RunningEmulator, products: Path, flows: Flows
) -> None:
    seen: list[bool] = []
    kit = make_kit(stripe_emulator, products)

    @kit.webhooks.on("checkout.session.completed")
    def welcome(event: Event) -> None:
        seen.append(kit.billing.is_subscribed(event.object["client_reference_id"], "pro"))

    flows.checkout("ivy", "pro")
    feed(kit, flows)
    assert seen == [True]


def test_a_failed_app_handler_leaves_the_event_to_be_retried_without_double_credits(
    stripe_emulator: RunningEmulator, products: Path, flows: Flows, tmp_path: Path
) -> None:
    kit = make_kit(stripe_emulator, products, store=f"sqlite:///{tmp_path / 'e.sqlite3'}")
    failures = [1]

    @kit.webhooks.on("checkout.session.completed")
    def flaky(event: Event) -> None:
        if failures:
            failures.pop()
            raise RuntimeError("the mailer is down")

    flows.checkout("jo", "pack", quantity=2)
    completed = [b for b, t in flows.events if t == "checkout.session.completed"]
    for body, _ in flows.events:
        if body not in completed:
            deliver(kit, body)
    assert deliver(kit, completed[0]).status == 500
    assert deliver(kit, completed[0]).status == 200  # Stripe's retry
    assert kit.billing.credits.balance("jo") == 100  # granted once


async def test_the_async_path_and_queries(kit: StripeKit, flows: Flows) -> None:
    flows.checkout("kim", "pro")
    flows.checkout("kim", "pack")
    for body, _ in flows.events:
        assert (await adeliver(kit, body)).status == 200
    billing = kit.billing
    assert await billing.ais_subscribed("kim", "pro")
    assert [s.products for s in await billing.asubscriptions("kim")] == [("pro",)]
    assert [p.products for p in await billing.apurchases("kim")] == [("pack",)]
    assert await billing.ahas_purchased("kim", "pack")
    assert (await billing.aentitlements("kim")).products == {"pro", "pack"}
    assert await billing.credits.abalance("kim") == 150
    assert await billing.credits.aspend("kim", 40, "export", "job-1")
    assert not await billing.credits.aspend("kim", 200, "export", "job-2")
    assert [e.amount for e in await billing.credits.ahistory("kim", 1)] == [-40]
    assert await billing.acustomer_for("kim") is not None
    await kit.aclose()


def test_refetch_always_gives_the_same_state(
    stripe_emulator: RunningEmulator, products: Path, flows: Flows
) -> None:
    sub = flows.subscription_of(flows.checkout("lu", "pro"))
    flows.cancel_at_period_end(sub)
    flows.checkout("lu", "pack", quantity=2)
    ties = make_kit(stripe_emulator, products)
    always = make_kit(stripe_emulator, products, billing_refetch="always")
    for body, _ in reversed(flows.events):
        deliver(ties, body)
        deliver(always, body)
    for kit in (ties, always):
        assert kit.billing.subscriptions("lu")[0].cancel_at_period_end
        assert kit.billing.credits.balance("lu") == 200
    assert ties.billing.purchases("lu") == always.billing.purchases("lu")


# -- settings ----------------------------------------------------------------------------------


def test_the_billing_state_can_be_off(stripe_emulator: RunningEmulator, products: Path) -> None:
    kit = make_kit(stripe_emulator, products, billing=False)
    with pytest.raises(ConfigurationError, match="billing state is off"):
        kit.billing.is_subscribed("ada")
    assert kit.linked_customer("ada") is None
    no_key = StripeKit(webhook_secret=WEBHOOK_SECRET, store="memory://")
    assert not no_key.billing_on  # the mirror needs the API: off without a secret key
    with pytest.raises(ConfigurationError, match=r"BILLING_REFETCH: .* 'ties' or 'always'"):
        make_kit(stripe_emulator, products, billing_refetch="bad")


def test_queries_refuse_what_is_not_a_user(kit: StripeKit) -> None:
    for query in (kit.billing.subscriptions, kit.billing.purchases, kit.billing.credits.balance):
        with pytest.raises(ConfigurationError, match="user reference"):
            query("")
    with pytest.raises(ValueError, match="positive whole number"):
        kit.billing.credits.spend("ada", 0, "x", "k")
    with pytest.raises(ValueError, match="idempotency_key"):
        kit.billing.credits.spend("ada", 1, "x", "")


def test_the_mirror_answers_the_sync_and_async_paths_alike(
    stripe_emulator: RunningEmulator, products: Path, flows: Flows
) -> None:
    flows.checkout("mo", "pro", price="trial")
    flows.checkout("mo", "pack")
    flows.advance(8)
    sync_kit, async_kit = make_kit(stripe_emulator, products), make_kit(stripe_emulator, products)
    for body, _ in flows.events:
        deliver(sync_kit, body)

    async def feed_async() -> None:
        for body, _ in flows.events:
            await adeliver(async_kit, body)
        await async_kit.aclose()

    asyncio.run(feed_async())
    for query in ("subscriptions", "purchases"):
        assert getattr(sync_kit.billing, query)("mo") == getattr(async_kit.billing, query)("mo")
    assert sync_kit.billing.credits.balance("mo") == async_kit.billing.credits.balance("mo") == 150
