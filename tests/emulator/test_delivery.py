"""Webhook delivery: signed like Stripe, retried with back-off, logged, in order."""

from __future__ import annotations

import httpx
import stripe
from webhook_sink import WebhookSink

from stripekit import verify_signature
from stripekit.emulator import run_emulator

SECRET = "whsec_delivery"


def test_a_failing_endpoint_is_retried_until_it_answers_2xx() -> None:
    with run_emulator(retry_delays=(0.05, 0.1, 0.2)) as emulator, WebhookSink() as sink:
        emulator.add_webhook_endpoint(sink.url, secret=SECRET)
        sink.answers = [500, 503]
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})
        client.v1.customers.create({"email": "a@b.c"})
        log = emulator.wait_for_deliveries()
        assert [(d.attempt, d.status) for d in log] == [(1, 500), (2, 503), (3, 200)]
        assert log[-1].ok and not log[0].ok
        assert len(sink.received) == 3
        bodies = {r.body for r in sink.received}
        assert len(bodies) == 1  # the same event each time...
        for received in sink.received:  # ...signed afresh, verifiable each time
            verify_signature(received.body, received.headers["stripe-signature"], [SECRET])
        deliveries = httpx.get(f"{emulator.url}/_emulator/deliveries").json()
        assert [d["status"] for d in deliveries] == [500, 503, 200]


def test_an_endpoint_that_never_answers_is_given_up_after_the_last_retry() -> None:
    with run_emulator(retry_delays=(0.02, 0.02)) as emulator:
        emulator.add_webhook_endpoint("http://127.0.0.1:9/nowhere", secret=SECRET)
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})
        client.v1.products.create({"name": "P"})
        log = emulator.wait_for_deliveries()
        assert [d.attempt for d in log] == [1, 2, 3]
        assert all(d.status is None and d.error for d in log)


def test_a_slow_endpoint_times_out_and_is_retried() -> None:
    with run_emulator(retry_delays=(0.05,)) as emulator, WebhookSink() as sink:
        emulator.emulator.delivery.timeout = 0.2
        sink.delay = 0.5
        emulator.add_webhook_endpoint(sink.url, secret=SECRET)
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})
        client.v1.products.create({"name": "P"})
        log = emulator.wait_for_deliveries(timeout=5)
        # Both attempts were cut off at the emulator's timeout (no answer recorded), not
        # waited out: a timed assertion here would only measure the machine.
        assert [d.status for d in log] == [None, None]
        assert all("Timeout" in str(d.error) for d in log)


def test_events_go_only_where_wanted_and_in_order(
    client: stripe.StripeClient, emulator: object
) -> None:
    from stripekit.emulator import RunningEmulator

    assert isinstance(emulator, RunningEmulator)
    with WebhookSink() as everything, WebhookSink() as products_only:
        emulator.add_webhook_endpoint(everything.url, secret=SECRET)
        emulator.add_webhook_endpoint(products_only.url, secret=SECRET, events=["product.*"])
        product = client.v1.products.create({"name": "P"})
        client.v1.customers.create({"email": "a@b.c"})
        client.v1.products.update(product.id, {"name": "Q"})
        emulator.wait_for_deliveries()
        assert everything.types() == ["product.created", "customer.created", "product.updated"]
        assert products_only.types() == ["product.created", "product.updated"]
        event = everything.received[0].event
        assert event["object"] == "event"
        assert event["pending_webhooks"] == 2
        assert event["data"]["object"]["id"] == product.id
        assert stripe.Event.construct_from(event, "sk_test_x").type == "product.created"
