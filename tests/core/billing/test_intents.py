"""Purchases from the Payment Element's intents: payment_intent.succeeded and .payment_failed
written like a checkout's purchase, in any order, any number of times."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from billing_flows import Flows, deliver, make_kit

from stripekit import StripeKit
from stripekit.emulator import RunningEmulator


@pytest.fixture
def kit(stripe_emulator: RunningEmulator, products: Path) -> StripeKit:
    return make_kit(stripe_emulator, products)


def feed(kit: StripeKit, flows: Flows, bodies: list[bytes] | None = None) -> None:
    for body in bodies if bodies is not None else [b for b, _ in flows.events]:
        assert deliver(kit, body).status == 200


def types(flows: Flows) -> list[str]:
    """The event types but the catalog's own (the products synced first)."""
    return [t for _, t in flows.events if not t.startswith(("product.", "price."))]


def test_a_paid_intent_is_a_purchase_with_its_credits(kit: StripeKit, flows: Flows) -> None:
    intent = flows.pay_intent("ada", "pack", quantity=2)
    assert types(flows) == [
        "customer.created",
        "payment_intent.created",
        "payment_intent.succeeded",
    ]
    feed(kit, flows)
    (bought,) = kit.billing.purchases("ada")
    assert (bought.id, bought.status, bought.products) == (intent, "paid", ("pack",))
    assert (bought.lines[0].quantity, bought.amount_total) == (2, 2 * 900)
    assert bought.payment_intent == intent
    assert kit.billing.has_purchased("ada", "pack")
    assert kit.billing.credits.balance("ada") == 2 * 50
    assert kit.billing.customer_for("ada") == flows.current("payment_intent", intent)["customer"]


def test_a_decline_is_a_failed_purchase_until_another_card_pays(
    kit: StripeKit, flows: Flows
) -> None:
    intent = flows.pay_intent("bob", "pack", card="pm_card_chargeDeclined")
    feed(kit, flows)
    (failed,) = kit.billing.purchases("bob")
    assert failed.status == "failed" and not kit.billing.has_purchased("bob", "pack")
    assert kit.billing.credits.balance("bob") == 0
    flows.confirm(intent, "pm_card_visa")
    feed(kit, flows)
    (paid,) = kit.billing.purchases("bob")
    assert paid.status == "paid" and kit.billing.credits.balance("bob") == 50


def test_three_d_secure_is_no_purchase_until_it_is_completed(kit: StripeKit, flows: Flows) -> None:
    intent = flows.pay_intent("cy", "pack", card="pm_card_authenticationRequiredOnSetup",
                              authenticate=None)  # fmt: skip
    feed(kit, flows)
    assert types(flows)[-1] == "payment_intent.requires_action"
    assert kit.billing.purchases("cy") == []
    flows.confirm(intent, "pm_card_authenticationRequiredOnSetup")
    feed(kit, flows)
    assert types(flows)[-1] == "payment_intent.succeeded"
    assert [p.status for p in kit.billing.purchases("cy")] == ["paid"]


def test_any_order_and_duplicates_end_in_the_same_state(
    stripe_emulator: RunningEmulator, products: Path, flows: Flows
) -> None:
    intent = flows.pay_intent("dee", "pack", quantity=3, card="pm_card_chargeDeclined")
    flows.confirm(intent, "pm_card_authenticationRequiredOnSetup")  # 3-D Secure, completed
    other = flows.pay_intent("dee", "pack", card="pm_card_chargeDeclined")
    bodies = [b for b, _ in flows.events]
    shuffler = random.Random(18)
    for _ in range(12):
        kit = make_kit(stripe_emulator, products)
        order = bodies + shuffler.sample(bodies, k=len(bodies) // 2)
        shuffler.shuffle(order)
        feed(kit, flows, order)
        found = {p.id: p.status for p in kit.billing.purchases("dee")}
        assert found == {intent: "paid", other: "failed"}, order
        assert kit.billing.credits.balance("dee") == 3 * 50  # granted once


def test_a_checkouts_intent_is_not_a_second_purchase(kit: StripeKit, flows: Flows) -> None:
    session = flows.checkout("eve", "pack")
    assert "payment_intent.succeeded" in types(flows)
    feed(kit, flows)
    assert [p.id for p in kit.billing.purchases("eve")] == [session]
    assert kit.billing.credits.balance("eve") == 50


def test_an_intent_the_kit_did_not_make_is_not_a_purchase(kit: StripeKit, flows: Flows) -> None:
    made = flows.client.v1.payment_intents.create(
        {"amount": 900, "currency": "usd", "metadata": {"stripekit_user": "fay"},
         "payment_method": "pm_card_visa", "confirm": True}
    )  # fmt: skip
    flows.settle()
    feed(kit, flows)
    assert made.status == "succeeded" and kit.billing.purchases("fay") == []


def test_an_event_of_the_same_second_is_settled_by_asking_stripe(
    kit: StripeKit, flows: Flows
) -> None:
    intent = flows.pay_intent("gus", "pack", card="pm_card_chargeDeclined")
    flows.confirm(intent, "pm_card_visa")
    by_type = {t: b for b, t in flows.events}
    failed = json.loads(by_type["payment_intent.payment_failed"])
    succeeded = json.loads(by_type["payment_intent.succeeded"])
    failed["created"] = succeeded["created"]  # a tie: the intent as it is now decides
    for event in (succeeded, failed):
        assert deliver(kit, json.dumps(event).encode()).status == 200
    assert [p.status for p in kit.billing.purchases("gus")] == ["paid"]


def test_a_refund_of_an_in_page_purchase_takes_its_credits_back(
    kit: StripeKit, flows: Flows
) -> None:
    intent = flows.pay_intent("hal", "pack", quantity=2)
    flows.client.v1.refunds.create({"payment_intent": intent, "amount": 900})
    flows.settle()
    feed(kit, flows)
    (bought,) = kit.billing.purchases("hal")
    assert (bought.refunded, bought.fully_refunded) == (900, False)
    assert kit.billing.credits.balance("hal") == 50  # half the payment, half the credits
