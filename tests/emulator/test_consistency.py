"""What a billing mirror built on the events needs: every object an event names can be
fetched, the last event about an object shows it as it is, events are dated by the clock."""

from __future__ import annotations

from typing import Any

import stripe
from emulator_objects import PATHS, fetch

from stripekit.emulator import RunningEmulator

SILENT: dict[str, set[str]] = {
    # Stripe sends no event when an invoice takes a pending item (invoiceitem.updated is gone).
    "invoiceitem": {"invoice"},
}
"""Fields that change with no event about their object, on Stripe too."""


def a_busy_month(client: stripe.StripeClient, emulator: RunningEmulator, shop) -> None:
    """Most paths at once: trials, a plan change, a failed renewal and its recovery,
    a refund, a dispute, pauses, a cancellation, a deleted customer."""
    trial = shop.subscribe(1000, subscription_data={"trial_period_days": 5})
    paying = shop.subscribe(2000)
    client.v1.subscriptions.update(
        paying.id,
        {
            "items": [{"id": paying["items"].data[0].id, "quantity": 2}],
            "proration_behavior": "always_invoice",
            "metadata": {"seats": "2"},
        },
    )
    client.v1.subscriptions.update(  # prorations left for the renewal: invoice items
        paying.id, {"items": [{"id": paying["items"].data[0].id, "quantity": 3}]}
    )
    failing = shop.save_card(str(trial.customer), "pm_card_chargeCustomerFail")
    client.v1.subscriptions.update(trial.id, {"default_payment_method": failing})
    emulator.advance_clock(days=6)  # the trial ends on a declined card: past due
    good = shop.save_card(str(trial.customer), "pm_card_visa")
    client.v1.invoices.pay(shop.latest_invoice(trial.id).id, {"payment_method": good})
    intent = shop.payment(3000)
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 1000})
    shop.payment(500, card="4000000000000259")
    client.v1.subscriptions.update(paying.id, {"pause_collection": {"behavior": "void"}})
    cheaper = shop.subscribe(3000)
    client.v1.subscriptions.update(  # a downgrade billed at once: the customer's credit
        cheaper.id,
        {
            "items": [{"id": cheaper["items"].data[0].id, "price": shop.price(1000)}],
            "proration_behavior": "always_invoice",
            "pause_collection": {"behavior": "keep_as_draft"},
        },
    )
    emulator.advance_clock(days=35)  # renewals, a voided invoice, a lost dispute
    client.v1.subscriptions.update(paying.id, {"cancel_at_period_end": True})
    client.v1.customers.delete(str(trial.customer))
    emulator.advance_clock(days=40)


def test_every_object_an_event_names_is_there_as_its_last_event_shows_it(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    a_busy_month(client, emulator, shop)
    events = emulator.events()
    assert len(events) > 60
    last: dict[str, dict[str, Any]] = {}
    for event in events:
        obj = event["data"]["object"]
        last[obj["id"]] = obj
    kinds = {obj["object"] for obj in last.values()}
    assert kinds >= set(PATHS) - {"setup_intent", "test_helpers.test_clock"}
    changed = []
    for obj in last.values():
        answer = fetch(emulator.api_base, obj)
        assert answer.status_code == 200, answer.text
        now = answer.json()
        if now.get("deleted"):
            assert obj["object"] == "customer"  # it was deleted: Stripe answers with a stub
            continue
        fields = {k for k in now if now[k] != obj.get(k)} - SILENT.get(obj["object"], set())
        changed += [f"{obj['object']}.{k}" for k in sorted(fields)]
    assert changed == [], "changed after the object's last event"


def test_events_are_dated_by_the_emulator_s_clock_in_order(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    start = emulator.emulator.state.clock.now()
    a_busy_month(client, emulator, shop)
    created = [e["created"] for e in emulator.events()]
    assert created == sorted(created)
    assert created[0] >= start
    assert created[-1] <= emulator.emulator.state.clock.now()
    assert created[-1] - created[0] > 60 * 86400  # not the wall clock's few seconds
