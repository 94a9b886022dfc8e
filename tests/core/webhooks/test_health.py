"""The health check: 200 with counts while the store answers, 503 (and no details) when not."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stripekit import EventStatus, MemoryEventStore, StripeKit
from stripekit.testing import signed_event
from stripekit.webhooks._health import StoreHealth
from stripekit.webhooks._store import OPEN_STATUSES

SECRET = "whsec_health"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class BrokenStore(MemoryEventStore):
    """A store whose database has gone away, with a message that must not leak."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def backlog(self) -> Any:
        self.calls += 1
        raise ConnectionError("could not connect to db.internal:5432 as admin (secret-ish)")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_empty_store_is_healthy_with_zero_counts() -> None:
    report = StoreHealth(MemoryEventStore(), cache_seconds=0).check()

    assert report.ok
    expected: dict[str, Any] = {"store": "ok"}
    for status in OPEN_STATUSES:
        expected[status.value] = 0
        expected[f"oldest_{status.value}_age_s"] = None
    assert report.body == expected
    assert {"processing", "failed", "oldest_failed_age_s"} <= set(report.body)


def test_counts_and_ages_of_waiting_events() -> None:
    now = [T0]
    store = MemoryEventStore(clock=lambda: now[0])
    kit = StripeKit(webhook_secret=SECRET, store=store)

    @kit.webhooks.on("invoice.paid")
    def fail(event: Any) -> None:
        raise RuntimeError("boom")

    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_h1")
    kit.handle_webhook(body, headers)
    now[0] = T0 + timedelta(seconds=30)
    store.claim(_event("evt_h2"), lease=60)

    health = StoreHealth(store, cache_seconds=0, clock=lambda: T0 + timedelta(seconds=90))
    report = health.check()

    assert report.status == 200
    assert report.body["failed"] == 1
    assert report.body["processing"] == 1
    assert report.body["oldest_failed_age_s"] == 90.0
    assert report.body["oldest_processing_age_s"] == 60.0
    assert report.backlog[EventStatus.FAILED].count == 1
    # Counts and ages only: no event id, no error, no event type.
    assert "evt_h1" not in str(report.body) and "boom" not in str(report.body)
    assert "invoice" not in str(report.body)


def test_an_age_is_never_negative_when_another_clock_runs_ahead() -> None:
    store = MemoryEventStore(clock=lambda: T0 + timedelta(seconds=5))
    store.claim(_event("evt_h3"), lease=60)

    report = StoreHealth(store, cache_seconds=0, clock=lambda: T0).check()

    assert report.body["oldest_processing_age_s"] == 0.0


def test_a_store_that_raises_is_503_and_the_reason_is_logged_not_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, "stripekit.webhooks"):
        report = StoreHealth(BrokenStore(), cache_seconds=0).check()

    assert (report.status, report.body) == (503, {"store": "unavailable"})
    assert not report.ok
    assert "db.internal" in caplog.text


async def test_the_async_check_answers_503_too() -> None:
    store = BrokenStore()
    kit = StripeKit(webhook_secret=SECRET, store=store)
    try:
        report = await kit.ahealth()
    finally:
        await kit.aclose()

    assert (report.status, report.body) == (503, {"store": "unavailable"})


def test_the_answer_is_kept_for_a_second() -> None:
    store = BrokenStore()
    health = StoreHealth(store)  # the default: 1 s

    first, second = health.check(), health.check()

    assert first is second
    assert store.calls == 1


async def test_a_kit_on_a_postgresql_server_that_is_not_there_is_503() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test"
    kit = StripeKit(webhook_secret=SECRET, database_url=url, database_connect_timeout=1)
    try:
        assert kit.health().status == 503
        kit._store_health.cache_seconds = 0
        report = await kit.ahealth()
    finally:
        await kit.aclose()
        kit.store.close()  # type: ignore[attr-defined]

    assert (report.status, report.body) == (503, {"store": "unavailable"})


def test_a_kit_whose_store_cannot_even_open_is_503() -> None:
    kit = StripeKit(webhook_secret=SECRET, database_url="nosuchdb://x")

    assert kit.health().body == {"store": "unavailable"}


@pytest.mark.postgres
async def test_a_kit_on_postgresql_counts_its_failed_events(postgres_url: str) -> None:
    kit = StripeKit(webhook_secret=SECRET, database_url=postgres_url)

    @kit.webhooks.on("invoice.paid")
    def fail(event: Any) -> None:
        raise RuntimeError("boom")

    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_pg_health")
    try:
        assert (await kit.ahandle_webhook(body, headers)).status == 500
        report = await kit.ahealth()
    finally:
        await kit.aclose()
        kit.store.close()  # type: ignore[attr-defined]

    assert report.status == 200
    assert report.body["failed"] >= 1
    assert report.body["oldest_failed_age_s"] >= 0


def _event(event_id: str) -> Any:
    from stripekit import parse_event
    from stripekit.testing import event_body, make_event

    return parse_event(event_body(make_event("invoice.paid", id=event_id)))
