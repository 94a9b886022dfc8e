"""Stripe's test clocks drive the emulator's clock: the same test code as for test mode."""

from __future__ import annotations

import time

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator

DAY = 86400


def test_a_subscription_renews_as_its_customer_s_clock_advances(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    # Written as for Stripe's test mode: nothing here knows about the emulator.
    clock = client.v1.test_helpers.test_clocks.create(
        {"frozen_time": int(time.time()), "name": "renewal"}
    )
    assert (clock.status, clock.name) == ("ready", "renewal")
    customer = client.v1.customers.create({"email": "a@b.c", "test_clock": clock.id})
    assert customer.test_clock == clock.id
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": shop.price(1000)}],
            "success_url": "https://shop.test/ok",
            "customer": customer.id,
        }
    )
    httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    sub_id = str(client.v1.checkout.sessions.retrieve(session.id).subscription)
    assert client.v1.subscriptions.retrieve(sub_id).test_clock == clock.id
    mark = shop.mark()

    advanced = client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": clock.frozen_time + 32 * DAY}
    )
    while advanced.status != "ready":  # Stripe advances in the background
        advanced = client.v1.test_helpers.test_clocks.retrieve(clock.id)

    assert advanced.frozen_time == clock.frozen_time + 32 * DAY
    types = shop.since(mark)
    assert types[0] == "test_helpers.test_clock.advancing"
    assert types[-1] == "test_helpers.test_clock.ready"
    assert types[1:-1] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    invoices = client.v1.invoices.list({"subscription": sub_id}).data
    assert [i.test_clock for i in invoices] == [clock.id, clock.id]
    assert [c.id for c in client.v1.customers.list({"test_clock": clock.id}).data] == [customer.id]
    assert [s.id for s in client.v1.subscriptions.list({"test_clock": clock.id}).data] == [sub_id]


def test_a_clock_only_moves_forward_and_deleting_it_deletes_its_customers(
    client: stripe.StripeClient, shop
) -> None:
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": int(time.time())})
    with pytest.raises(stripe.InvalidRequestError, match="must be later"):
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": clock.frozen_time})
    customer = client.v1.customers.create({"email": "a@b.c", "test_clock": clock.id})
    listed = client.v1.test_helpers.test_clocks.list().data
    assert [c.id for c in listed] == [clock.id]
    deleted = client.v1.test_helpers.test_clocks.delete(clock.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(customer.id).to_dict()["deleted"] is True
    with pytest.raises(stripe.InvalidRequestError, match="No such test_clock"):
        client.v1.test_helpers.test_clocks.retrieve(clock.id)
    with pytest.raises(stripe.InvalidRequestError, match="No such test_clock"):
        client.v1.customers.create({"test_clock": "clock_nope"})
