"""Plan changes: the new price applies, with prorations Stripe's way, and the invoice
preview of a change bills exactly what the change then bills."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripekit.emulator import RunningEmulator

DAY = 86400


def prorations_of(invoice: Any) -> list[int]:
    return [
        line.amount
        for line in invoice.lines.data
        if (
            line.parent.subscription_item_details is not None
            and line.parent.subscription_item_details.proration
        )
        or (
            line.parent.invoice_item_details is not None
            and line.parent.invoice_item_details.proration
        )
    ]


def half_way(sub: stripe.Subscription) -> int:
    item = sub["items"].data[0]
    return (item.current_period_start + item.current_period_end) // 2


def test_an_upgrade_billed_at_once_is_what_its_preview_said(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    premium = shop.price(3000, name="Premium")
    item = sub["items"].data[0]
    when = half_way(sub)
    emulator.advance_clock(seconds=when - emulator.emulator.state.clock.now())
    change: Any = {"items": [{"id": item.id, "price": premium}], "proration_date": when}

    preview = client.v1.invoices.create_preview(
        {
            "subscription": sub.id,
            "subscription_details": {
                "items": change["items"],
                "proration_date": when,
                "proration_behavior": "always_invoice",
            },
        }
    )
    mark = shop.mark()
    changed = client.v1.subscriptions.update(
        sub.id, {**change, "proration_behavior": "always_invoice"}
    )

    new_item = changed["items"].data[0]
    assert (new_item.id, new_item.price.id, new_item.quantity) == (item.id, premium, 1)
    invoice = client.v1.invoices.retrieve(str(changed.latest_invoice))
    assert invoice.billing_reason == "subscription_update"
    assert invoice.status == "paid"
    assert prorations_of(invoice) == prorations_of(preview) == [-500, 1500]
    assert invoice.amount_paid == preview.amount_due == 1000
    events = shop.events_since(mark)
    assert [e["type"] for e in events] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    previous = events[-1]["data"]["previous_attributes"]
    assert previous["items"]["data"][0]["price"]["id"] != premium
    assert previous["latest_invoice"] == sub.latest_invoice


def test_prorations_wait_for_the_next_invoice_by_default(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    item = sub["items"].data[0]
    when = half_way(sub)
    emulator.advance_clock(seconds=when - emulator.emulator.state.clock.now())
    items: Any = [{"id": item.id, "quantity": 3}]
    preview = client.v1.invoices.create_preview(
        {
            "subscription": sub.id,
            "subscription_details": {"items": items, "proration_date": when},
        }
    )
    mark = shop.mark()

    client.v1.subscriptions.update(sub.id, {"items": items, "proration_date": when})

    assert shop.since(mark) == [
        "invoiceitem.created",
        "invoiceitem.created",
        "customer.subscription.updated",
    ]
    pending = client.v1.invoice_items.list({"customer": str(sub.customer), "pending": True})
    assert sorted(i.amount for i in pending.data) == [-500, 1500]
    assert all(i.proration for i in pending.data)
    emulator.advance_clock(days=20)  # past the period's end: the renewal bills them
    renewal = shop.latest_invoice(sub.id)
    assert renewal.billing_reason == "subscription_cycle"
    assert sorted(prorations_of(renewal)) == sorted(prorations_of(preview)) == [-500, 1500]
    assert renewal.amount_paid == preview.amount_due == 1000 + 3000
    assert client.v1.invoice_items.list({"pending": True}).data == []
    assert {i.invoice for i in client.v1.invoice_items.list().data} == {renewal.id}


def test_no_proration_changes_the_price_from_the_next_period(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    cheaper = shop.price(500, name="Lite")
    mark = shop.mark()
    client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "price": cheaper}],
            "proration_behavior": "none",
        },
    )
    assert shop.since(mark) == ["customer.subscription.updated"]
    emulator.advance_clock(days=32)
    renewal = shop.latest_invoice(sub.id)
    assert (renewal.amount_paid, prorations_of(renewal)) == (500, [])


def test_a_downgrade_billed_at_once_becomes_credit_for_the_next_invoice(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(3000)
    cheaper = shop.price(1000, name="Lite")
    when = half_way(sub)
    emulator.advance_clock(seconds=when - emulator.emulator.state.clock.now())
    changed = client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "price": cheaper}],
            "proration_behavior": "always_invoice",
            "proration_date": when,
        },
    )
    credit = client.v1.invoices.retrieve(str(changed.latest_invoice))
    assert (credit.total, credit.amount_due, credit.status) == (-1000, 0, "paid")
    assert credit.ending_balance == -1000
    assert client.v1.customers.retrieve(str(sub.customer)).balance == -1000
    emulator.advance_clock(days=20)
    renewal = shop.latest_invoice(sub.id)
    assert (renewal.total, renewal.starting_balance, renewal.amount_paid) == (1000, -1000, 0)
    assert client.v1.customers.retrieve(str(sub.customer)).balance == 0


def test_a_new_billing_interval_restarts_the_period_and_bills_now(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = shop.subscribe(1000)
    yearly = shop.price(10000, interval="year", name="Pro yearly")
    when = half_way(sub)
    emulator.advance_clock(seconds=when - emulator.emulator.state.clock.now())
    items: Any = [{"id": sub["items"].data[0].id, "price": yearly}]
    preview = client.v1.invoices.create_preview(
        {"subscription": sub.id, "subscription_details": {"items": items, "proration_date": when}}
    )
    changed = client.v1.subscriptions.update(sub.id, {"items": items, "proration_date": when})
    invoice = client.v1.invoices.retrieve(str(changed.latest_invoice))
    assert [line.amount for line in invoice.lines.data] == [-500, 10000]
    assert [line.amount for line in preview.lines.data] == [-500, 10000]
    item = changed["items"].data[0]
    # The period restarts at the change's own moment (its invoice's): `when`, or a second
    # or so after it if the wall clock ticked between advancing it and the update.
    assert item.current_period_start == changed.billing_cycle_anchor == invoice.created
    assert when <= invoice.created <= emulator.emulator.state.clock.now()
    assert item.current_period_end - item.current_period_start in (365 * DAY, 366 * DAY)


def test_an_item_is_added_and_one_removed(client: stripe.StripeClient, shop) -> None:
    sub = shop.subscribe(1000)
    seats = shop.price(200, name="Seat")
    first = sub["items"].data[0].id
    added = client.v1.subscriptions.update(
        sub.id, {"items": [{"price": seats, "quantity": 5}], "proration_behavior": "none"}
    )
    assert [(i.price.id, i.quantity) for i in added["items"].data][1:] == [(seats, 5)]
    removed = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": first, "deleted": True}], "proration_behavior": "none"}
    )
    assert [i.price.id for i in removed["items"].data] == [seats]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"id": "si_nope", "quantity": 2}], "is not an item of this subscription"),
        ([{"price": "price_nope"}], "No such price"),
        ([{"price": "{one_time}"}], "is not recurring"),
        ([{"price": "{euro}"}], "is in eur"),
        ([{"price": "{yearly}"}], "same `recurring.interval`"),
        ([{"id": "{item}", "deleted": True}], "at least one item"),
    ],
)
def test_bad_plan_changes_change_nothing(
    client: stripe.StripeClient, shop, items: list[dict[str, Any]], message: str
) -> None:
    sub = shop.subscribe(1000)
    names = {
        "{one_time}": shop.price(100, interval=None),
        "{euro}": shop.price(100, currency="eur"),
        "{yearly}": shop.price(100, interval="year"),
        "{item}": sub["items"].data[0].id,
    }
    items = [{k: names.get(v, v) for k, v in entry.items()} for entry in items]
    if message == "same `recurring.interval`":
        items = [*items, {"price": shop.price(100)}]
    mark = shop.mark()
    with pytest.raises(stripe.InvalidRequestError, match=message):
        client.v1.subscriptions.update(sub.id, {"items": items})  # type: ignore[typeddict-item]
    assert shop.since(mark) == []
    assert client.v1.subscriptions.retrieve(sub.id).to_dict() == sub.to_dict()


def test_a_proration_date_outside_the_period_is_refused(client: stripe.StripeClient, shop) -> None:
    sub = shop.subscribe(1000)
    with pytest.raises(stripe.InvalidRequestError, match="within the subscription's current"):
        client.v1.subscriptions.update(
            sub.id,
            {"items": [{"id": sub["items"].data[0].id, "quantity": 2}], "proration_date": 1},
        )


def test_error_if_incomplete_refuses_a_change_the_card_cannot_pay(
    client: stripe.StripeClient, shop
) -> None:
    sub = shop.subscribe(1000)
    failing = shop.save_card(str(sub.customer), "pm_card_chargeCustomerFail")
    client.v1.subscriptions.update(sub.id, {"default_payment_method": failing})
    before = client.v1.subscriptions.retrieve(sub.id)
    mark = shop.mark()
    with pytest.raises(stripe.CardError):
        client.v1.subscriptions.update(
            sub.id,
            {
                "items": [{"id": sub["items"].data[0].id, "quantity": 4}],
                "proration_behavior": "always_invoice",
                "payment_behavior": "error_if_incomplete",
            },
        )
    assert shop.since(mark) == []
    assert client.v1.subscriptions.retrieve(sub.id).to_dict() == before.to_dict()
    # allow_incomplete (the default): the change stands, the invoice waits, past due.
    changed = client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "quantity": 4}],
            "proration_behavior": "always_invoice",
        },
    )
    assert changed.status == "past_due"
    assert client.v1.invoices.retrieve(str(changed.latest_invoice)).status == "open"


def test_the_next_invoice_preview_without_changes(client: stripe.StripeClient, shop) -> None:
    sub = shop.subscribe(1000)
    preview = client.v1.invoices.create_preview(
        {"customer": str(sub.customer), "subscription": sub.id}
    )
    assert (preview.amount_due, preview.billing_reason) == (1000, "upcoming")
    assert preview.id is not None and preview.id.startswith("upcoming_in_")
    assert preview.period_start == sub["items"].data[0].current_period_end
    with pytest.raises(stripe.InvalidRequestError, match="No such invoice"):
        client.v1.invoices.retrieve(preview.id)
    canceled = client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    with pytest.raises(stripe.InvalidRequestError, match="No upcoming invoices"):
        client.v1.invoices.create_preview({"subscription": canceled.id})
