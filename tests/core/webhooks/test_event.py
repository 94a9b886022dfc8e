from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from fake_stripe import SECRET_KEY, FakeStripe

from stripekit import ConfigurationError, PayloadError, StripeAPIError, parse_event
from stripekit.testing import event_body, make_event, make_thin_event


def test_snapshot_event_from_stripes_own_sample(stripe_fixtures: dict[str, Any]) -> None:
    session = stripe_fixtures["checkout.session"]
    raw = event_body(
        make_event(
            "checkout.session.completed",
            session,
            id="evt_1",
            created=1_700_000_000,
            account="acct_123",
            request_id="req_9",
        )
    )
    event = parse_event(raw)
    assert event.id == "evt_1"
    assert event.type == "checkout.session.completed"
    assert event.created == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert event.livemode is False
    assert event.account == "acct_123"
    assert event.api_version == stripe.api_version
    assert event.request_id == "req_9"
    assert event.object == session
    assert event.previous_attributes == {}
    assert event.raw == raw
    assert event.is_thin is False
    assert repr(event) == "<Event evt_1 checkout.session.completed>"


def test_previous_attributes_of_an_update(stripe_fixtures: dict[str, Any]) -> None:
    sub = stripe_fixtures["subscription"]
    event = parse_event(
        event_body(
            make_event(
                "customer.subscription.updated", sub, previous_attributes={"status": "trialing"}
            )
        )
    )
    assert event.previous_attributes == {"status": "trialing"}
    assert event.object["id"] == sub["id"]


def test_the_sample_event_itself(stripe_fixtures: dict[str, Any]) -> None:
    raw = json.dumps(stripe_fixtures["event"]).encode()
    event = parse_event(raw)
    assert event.type == stripe_fixtures["event"]["type"]
    assert event.api_version is None
    assert event.request_id is None
    full = event.to_stripe()
    assert isinstance(full, stripe.Event)
    assert full.id == event.id
    assert full.data.object["id"] == event.object["id"]


def test_thin_event_is_recognised() -> None:
    thin = make_thin_event(
        "v1.billing.meter.error_report_triggered",
        {"id": "mtr_1", "type": "billing.meter", "url": "/v1/billing/meters/mtr_1"},
        id="evt_test_thin",
        context="acct_9",
    )
    event = parse_event(json.dumps(thin).encode())
    assert event.is_thin
    assert event.type == "v1.billing.meter.error_report_triggered"
    assert event.object == {
        "id": "mtr_1",
        "type": "billing.meter",
        "url": "/v1/billing/meters/mtr_1",
    }
    assert event.account == "acct_9"
    assert event.created.year >= 2024
    notification = event.to_stripe()
    assert notification.id == "evt_test_thin"
    assert notification.type == "v1.billing.meter.error_report_triggered"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": "cus_1", "object": "customer"}', "object is 'customer'"),
        (b'{"object": "event", "type": "x", "data": {"object": {}}}', "no 'id'"),
        (b'{"object": "event", "id": "evt_1", "data": {"object": {}}}', "no 'type'"),
        (b'{"object": "event", "id": "evt_1", "type": "invoice.paid"}', "no data.object"),
        (
            b'{"object": "event", "id": "evt_1", "type": "a", "data": {"object": 3}}',
            "no data.object",
        ),
    ],
)
def test_bodies_that_are_not_events_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_event(raw)


def test_fetch_object_needs_a_client() -> None:
    event = parse_event(event_body(make_event("invoice.paid")))
    with pytest.raises(ConfigurationError, match="no Stripe client"):
        event.fetch_object()


# -- fetch_object against a Stripe-speaking server -----------------------------------------


@pytest.fixture
def server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


def _client(server: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": server.url}, max_network_retries=0
    )


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ("invoice", "/v1/invoices/{id}"),
        ("checkout.session", "/v1/checkout/sessions/{id}"),
        ("subscription", "/v1/subscriptions/{id}"),
        ("customer", "/v1/customers/{id}"),
    ],
)
def test_fetch_object_retrieves_the_object_as_it_is_now(
    server: FakeStripe, stripe_fixtures: dict[str, Any], resource: str, path: str
) -> None:
    sent = copy.deepcopy(stripe_fixtures[resource])
    now = {**sent, "metadata": {"changed": "since the event"}}
    server.objects[path.format(id=sent["id"])] = now
    client = _client(server)
    event = parse_event(event_body(make_event("invoice.paid", sent)), lambda: client)

    fetched = event.fetch_object()

    assert isinstance(fetched, stripe.StripeObject)
    assert fetched.to_dict()["metadata"] == {"changed": "since the event"}
    assert fetched["id"] == sent["id"]
    assert fetched["object"] == resource
    assert [r.path for r in server.requests] == [path.format(id=sent["id"])]


async def test_afetch_object_is_the_async_twin(
    server: FakeStripe, stripe_fixtures: dict[str, Any]
) -> None:
    invoice = copy.deepcopy(stripe_fixtures["invoice"])
    server.objects[f"/v1/invoices/{invoice['id']}"] = {**invoice, "status": "paid"}
    client = _client(server)
    event = parse_event(event_body(make_event("invoice.paid", invoice)), lambda: client)
    fetched = await event.afetch_object()
    assert isinstance(fetched, stripe.Invoice)
    assert fetched.status == "paid"


def test_fetch_object_of_a_thin_event_follows_its_related_object_url(server: FakeStripe) -> None:
    meter = {"id": "mtr_1", "object": "billing.meter", "status": "inactive"}
    server.objects["/v1/billing/meters/mtr_1"] = meter
    client = _client(server)
    related = {"id": "mtr_1", "type": "billing.meter", "url": "/v1/billing/meters/mtr_1"}
    event = parse_event(
        event_body(make_thin_event("v1.billing.meter.no_meter_found", related)), lambda: client
    )
    assert event.fetch_object()["status"] == "inactive"


def test_fetch_object_of_a_deleted_object_raises_stripes_error(
    server: FakeStripe, stripe_fixtures: dict[str, Any]
) -> None:
    client = _client(server)
    event = parse_event(
        event_body(make_event("customer.deleted", stripe_fixtures["customer"])), lambda: client
    )
    with pytest.raises(StripeAPIError) as caught:
        event.fetch_object()
    assert caught.value.status == 404


def test_fetch_object_needs_an_object_stripe_knows() -> None:
    client = stripe.StripeClient(SECRET_KEY)
    body = event_body(make_event("invoice.paid", {"id": "x_1", "object": "nope"}))
    with pytest.raises(PayloadError, match="no retrievable object"):
        parse_event(body, lambda: client).fetch_object()
