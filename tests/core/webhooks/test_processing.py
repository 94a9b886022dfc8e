from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest

from stripekit import (
    ClaimOutcome,
    ConfigurationError,
    Event,
    EventStatus,
    EventStore,
    MemoryEventStore,
    WebhookProcessor,
    WebhookRegistry,
)
from stripekit.testing import event_body, make_event, make_thin_event, sign_payload, signed_event

SECRET = "whsec_test_secret"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def handler(self, name: str) -> Any:
        def handle(event: Event) -> None:
            self.calls.append((name, event.id))

        handle.__qualname__ = name
        return handle


def make_processor(
    registry: WebhookRegistry | None = None, store: Any = None, **kwargs: Any
) -> WebhookProcessor:
    return WebhookProcessor(
        secrets=kwargs.pop("secrets", [SECRET]),
        store=store if store is not None else MemoryEventStore(),
        registry=registry if registry is not None else WebhookRegistry(),
        **kwargs,
    )


def test_a_signed_event_is_recorded_dispatched_and_acknowledged(
    stripe_fixtures: dict[str, Any],
    store: EventStore,
) -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()
    webhooks.register("checkout.session.completed", rec.handler("fulfil"))
    webhooks.register("*", rec.handler("audit"))
    processor = make_processor(webhooks, store)
    body, headers = signed_event(
        "checkout.session.completed", stripe_fixtures["checkout.session"], secret=SECRET, id="evt_1"
    )
    result = processor.process(body, headers)
    assert (result.status, result.body, result.outcome) == (
        200,
        {"status": "processed", "event": "evt_1"},
        "processed",
    )
    assert rec.calls == [("fulfil", "evt_1"), ("audit", "evt_1")]
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.status is EventStatus.PROCESSED
    assert stored.payload == body
    assert stored.attempts == 1
    assert stored.processed_at is not None


def test_a_second_delivery_runs_nothing() -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", rec.handler("fulfil"))
    processor = make_processor(webhooks)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_twice")
    assert processor.process(body, headers).status == 200
    again = processor.process(body, signed_event_headers(body))
    assert (again.status, again.outcome) == (200, "duplicate")
    assert rec.calls == [("fulfil", "evt_twice")]


def signed_event_headers(body: bytes) -> dict[str, str]:
    return {"stripe-signature": sign_payload(body, SECRET)}


def test_unhandled_types_are_recorded_and_acknowledged(store: EventStore) -> None:
    processor = make_processor(store=store)
    body, headers = signed_event("customer.created", secret=SECRET, id="evt_unhandled")
    result = processor.process(body, headers)
    assert (result.status, result.body) == (200, {"status": "unhandled", "event": "evt_unhandled"})
    stored = store.get("evt_unhandled")
    assert stored is not None and stored.status is EventStatus.UNHANDLED


def test_thin_events_dispatch_by_type() -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()
    webhooks.register("v1.billing.meter.error_report_triggered", rec.handler("meter"))
    processor = make_processor(webhooks)
    body = event_body(make_thin_event("v1.billing.meter.error_report_triggered", id="evt_thin"))
    result = processor.process(body, signed_event_headers(body))
    assert result.status == 200
    assert rec.calls == [("meter", "evt_thin")]


def test_a_failing_handler_answers_500_and_the_next_delivery_reruns_it(
    caplog: pytest.LogCaptureFixture,
    store: EventStore,
) -> None:
    attempts: list[str] = []
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    def flaky(event: Event) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("database is down; card 4242 customer secret-ish detail")

    processor = make_processor(webhooks, store)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_flaky")
    with caplog.at_level(logging.ERROR, "stripekit.webhooks"):
        first = processor.process(body, headers)
    assert (first.status, first.body, first.outcome) == (
        500,
        {"status": "failed", "event": "evt_flaky"},
        "failed",
    )
    assert "database is down" not in json.dumps(first.body)
    assert "flaky failed on evt_flaky" in caplog.text
    stored = store.get("evt_flaky")
    assert stored is not None and stored.status is EventStatus.FAILED
    assert stored.last_error is not None and "RuntimeError: database is down" in stored.last_error

    second = processor.process(body, signed_event_headers(body))
    assert (second.status, second.outcome) == (200, "processed")
    assert attempts == ["evt_flaky", "evt_flaky"]
    stored = store.get("evt_flaky")
    assert stored is not None and stored.status is EventStatus.PROCESSED and stored.attempts == 2


def test_handlers_after_a_failing_one_do_not_run() -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    def boom(event: Event) -> None:
        raise ValueError("boom")

    webhooks.register("invoice.paid", rec.handler("after"))
    result = make_processor(webhooks).process(*signed_event("invoice.paid", secret=SECRET))
    assert result.status == 500
    assert rec.calls == []


def test_an_event_held_by_another_worker_is_answered_409(store: EventStore) -> None:
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_held")
    from stripekit import parse_event

    claim = store.claim(parse_event(body), lease=300)
    assert claim.outcome is ClaimOutcome.NEW
    result = make_processor(store=store).process(body, headers)
    assert (result.status, result.outcome) == (409, "in_flight")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "No|no|missing|Stripe-Signature"),
        ({"Stripe-Signature": ""}, "."),
        ({"Stripe-Signature": "garbage"}, "."),
        ({"Stripe-Signature": "t=1,v1=abc"}, "."),
        ({"Stripe-Signature": "t=notanumber,v1=abc"}, "."),
    ],
)
def test_bad_signatures_are_refused_and_nothing_is_recorded(
    headers: dict[str, str], message: str, store: EventStore
) -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()
    webhooks.register("*", rec.handler("any"))
    body = event_body(make_event("invoice.paid", id="evt_bad"))
    result = make_processor(webhooks, store).process(body, headers)
    assert result.status == 400
    assert result.outcome == "rejected"
    assert "error" in result.body
    assert rec.calls == []
    assert store.get("evt_bad") is None


def test_wrong_secret_expired_and_tampered_bodies_are_refused(store: EventStore) -> None:
    processor = make_processor(store=store)
    body = event_body(make_event("invoice.paid", id="evt_x"))
    wrong = {"Stripe-Signature": sign_payload(body, "whsec_other")}
    old = {"Stripe-Signature": sign_payload(body, SECRET, timestamp=int(time.time()) - 301)}
    tampered_body = body.replace(b"invoice.paid", b"invoice.void")
    tampered = {"Stripe-Signature": sign_payload(body, SECRET)}
    for b, h in [(body, wrong), (body, old), (tampered_body, tampered)]:
        result = processor.process(b, h)
        assert result.status == 400
        assert SECRET not in json.dumps(result.body)
    assert store.list() == []


def test_a_signed_body_that_is_not_an_event_is_refused(store: EventStore) -> None:
    body = json.dumps({"id": "cus_1", "object": "customer"}).encode()
    result = make_processor(store=store).process(body, signed_event_headers(body))
    assert result.status == 400
    assert "not a Stripe event" in result.body["error"]
    assert store.list() == []


def test_bodies_over_the_limit_get_413() -> None:
    body = event_body(
        make_event("invoice.paid", {"id": "in_1", "object": "invoice", "x": "y" * 2000})
    )
    result = make_processor(max_body_bytes=1000).process(body, signed_event_headers(body))
    assert result.status == 413
    assert "1000-byte limit" in result.body["error"]


def test_the_body_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="raw request body as bytes"):
        make_processor().process("{}", {})  # type: ignore[arg-type]


def test_secret_rotation_accepts_either_secret() -> None:
    processor = make_processor(secrets=["whsec_new", SECRET])
    result = processor.process(*signed_event("invoice.paid", secret=SECRET))
    assert result.status == 200


def test_livemode_mismatch_is_recorded_ignored_and_logged(
    caplog: pytest.LogCaptureFixture, store: EventStore
) -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()
    webhooks.register("*", rec.handler("any"))
    processor = make_processor(webhooks, store, livemode=True)
    body, headers = signed_event(
        "invoice.paid", secret=SECRET, id="evt_test_on_live", livemode=False
    )
    with caplog.at_level(logging.WARNING, "stripekit.webhooks"):
        result = processor.process(body, headers)
    assert (result.status, result.outcome) == (200, "ignored")
    assert rec.calls == []
    assert "livemode=false but the keys are live keys" in caplog.text
    stored = store.get("evt_test_on_live")
    assert stored is not None and stored.status is EventStatus.IGNORED
    # Redelivery of an ignored event stays ignored.
    assert processor.process(body, signed_event_headers(body)).status == 200
    assert rec.calls == []


def test_livemode_mismatch_can_be_refused() -> None:
    processor = make_processor(livemode=False, reject_livemode_mismatch=True)
    result = processor.process(*signed_event("invoice.paid", secret=SECRET, livemode=True))
    assert result.status == 400
    assert "livemode=true but the keys are test keys" in result.body["error"]


class BrokenStore(MemoryEventStore):
    def claim(self, event: Event, *, lease: float) -> Any:
        raise OSError("connection refused")


def test_an_unreachable_store_is_not_acknowledged() -> None:
    rec = Recorder()
    webhooks = WebhookRegistry()
    webhooks.register("*", rec.handler("any"))
    result = make_processor(webhooks, BrokenStore()).process(
        *signed_event("invoice.paid", secret=SECRET)
    )
    assert result.status == 503
    assert rec.calls == []


def test_headers_are_found_case_insensitively() -> None:
    body = event_body(make_event("invoice.paid"))
    header = sign_payload(body, SECRET)
    for key in ("Stripe-Signature", "stripe-signature", "STRIPE-SIGNATURE"):
        assert make_processor().process(body, {key: header}).status == 200


def test_registration_closes_after_the_first_event() -> None:
    webhooks = WebhookRegistry()
    make_processor(webhooks).process(*signed_event("invoice.paid", secret=SECRET))
    with pytest.raises(ConfigurationError):
        webhooks.register("invoice.paid", lambda e: None)


def test_configuration_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        make_processor(secrets=[])
    with pytest.raises(ConfigurationError, match="never expires"):
        make_processor(tolerance=0)
    assert SECRET not in repr(make_processor())


def test_async_handlers_run_in_sync_processing() -> None:
    seen: list[str] = []
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    async def handle(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(event.id)

    result = make_processor(webhooks).process(
        *signed_event("invoice.paid", secret=SECRET, id="evt_a")
    )
    assert result.status == 200
    assert seen == ["evt_a"]


async def test_aprocess_runs_sync_and_async_handlers_in_order(store: EventStore) -> None:
    seen: list[str] = []
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    def first(event: Event) -> None:
        seen.append("sync")

    @webhooks.on("invoice.*")
    async def second(event: Event) -> None:
        seen.append("async")

    processor = make_processor(webhooks, store)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_async")
    result = await processor.aprocess(body, headers)
    assert (result.status, result.outcome) == (200, "processed")
    assert seen == ["sync", "async"]
    again = await processor.aprocess(body, signed_event_headers(body))
    assert again.outcome == "duplicate"
    assert seen == ["sync", "async"]


async def test_aprocess_failure_then_retry_and_rejections(store: EventStore) -> None:
    calls: list[int] = []
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    async def flaky(event: Event) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first time fails")

    processor = make_processor(webhooks, store, livemode=False)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_af")
    assert (await processor.aprocess(body, headers)).status == 500
    assert (await processor.aprocess(body, signed_event_headers(body))).status == 200
    assert len(calls) == 2
    assert (await processor.aprocess(body, {})).status == 400
    live_body, live_headers = signed_event("invoice.paid", secret=SECRET, livemode=True)
    assert (await processor.aprocess(live_body, live_headers)).outcome == "ignored"
    assert (await make_processor(store=BrokenStore()).aprocess(body, headers)).status == 503
