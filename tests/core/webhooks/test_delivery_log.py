"""One structured record per delivery on ``stripekit.webhooks.delivery``, its fields as attributes.

The time fields are checked on a fake ``perf_counter`` that only the store and
the handlers move, so they are exact, not timed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from stripekit import (
    EventStatus,
    MemoryEventStore,
    StripeKit,
    WebhookProcessor,
    WebhookRegistry,
)
from stripekit.testing import signed_event
from stripekit.webhooks import _dispatch, _observe, _processing

SECRET = "whsec_delivery_log"
FIELDS = ("event_id", "event_type", "account", "outcome", "status", "attempts", "handler_ms",
          "store_ms", "duration_ms", "via")  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Captured(logging.Handler):
    """Keeps every record's attributes, as a JSON formatter or structlog would see them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def fields(self) -> list[dict[str, Any]]:
        return [{name: getattr(r, name) for name in FIELDS} for r in self.records]


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger(_observe.DELIVERY_LOGGER)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for module in (_dispatch, _observe, _processing):
        monkeypatch.setattr(module, "perf_counter", fake)
    return fake


class SlowStore(MemoryEventStore):
    """A memory store whose every call takes 0.1 s of the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def claim(self, event: Any, *, lease: float) -> Any:
        self.clock.advance(0.1)
        return super().claim(event, lease=lease)

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        self.clock.advance(0.1)
        return super().complete(event_id, token, status=status)

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        self.clock.advance(0.1)
        return super().fail(event_id, token, error=error)

    def claim_for_replay(self, event_id: str, *, lease: float, force: bool = False) -> Any:
        self.clock.advance(0.1)
        return super().claim_for_replay(event_id, lease=lease, force=force)


class DownStore(MemoryEventStore):
    def claim(self, event: Any, *, lease: float) -> Any:
        raise ConnectionError("connection refused")


def _processor(store: Any, webhooks: WebhookRegistry, **options: Any) -> WebhookProcessor:
    return WebhookProcessor(secrets=[SECRET], store=store, registry=webhooks, **options)


def _slow_handlers(clock: FakeClock, *, fail: bool = False) -> WebhookRegistry:
    webhooks = WebhookRegistry()

    def fulfil(event: Any) -> None:
        clock.advance(0.25)
        if fail:
            raise RuntimeError("the warehouse is down")

    webhooks.register("checkout.session.completed", fulfil)
    return webhooks


def test_a_processed_delivery_is_one_info_record_with_its_times(
    captured: Captured, clock: FakeClock
) -> None:
    processor = _processor(SlowStore(clock), _slow_handlers(clock))
    body, headers = signed_event(
        "checkout.session.completed", {"id": "cs_1", "object": "checkout.session"},
        secret=SECRET, id="evt_log_1", account="acct_1",
    )  # fmt: skip

    assert processor.process(body, headers).status == 200

    [record] = captured.records
    assert record.levelno == logging.INFO
    assert record.name == "stripekit.webhooks.delivery"
    assert captured.fields() == [
        {
            "event_id": "evt_log_1", "event_type": "checkout.session.completed",
            "account": "acct_1", "outcome": "processed", "status": 200, "attempts": 1,
            "handler_ms": 250.0, "store_ms": 200.0, "duration_ms": 450.0, "via": "webhook",
        }
    ]  # fmt: skip
    assert "evt_log_1" in record.getMessage()
    assert "processed" in record.getMessage()


async def test_the_async_path_records_the_same_fields(captured: Captured, clock: FakeClock) -> None:
    processor = _processor(SlowStore(clock), _slow_handlers(clock))
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_log_2")
    try:
        assert (await processor.aprocess(body, headers)).status == 200
    finally:
        processor.close()

    [fields] = captured.fields()
    assert fields["outcome"] == "processed"
    assert (fields["handler_ms"], fields["store_ms"], fields["attempts"]) == (250.0, 200.0, 1)
    assert fields["account"] is None


def test_a_failed_handler_is_a_warning_naming_it(captured: Captured, clock: FakeClock) -> None:
    processor = _processor(SlowStore(clock), _slow_handlers(clock, fail=True))
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_log_3")

    assert processor.process(body, headers).status == 500
    assert processor.process(body, headers).status == 500  # Stripe's retry

    first, second = captured.records
    assert first.levelno == second.levelno == logging.WARNING
    assert [r.outcome for r in captured.records] == ["failed", "failed"]  # type: ignore[attr-defined]
    assert [r.attempts for r in captured.records] == [1, 2]  # type: ignore[attr-defined]
    assert first.handler_ms == 250.0  # type: ignore[attr-defined]
    assert "fulfil" in first.getMessage()
    # The traceback is in the store and the handler's own error record, not here.
    assert "warehouse" not in first.getMessage()


def test_a_duplicate_and_an_unhandled_event_are_info(captured: Captured) -> None:
    processor = _processor(MemoryEventStore(), WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_4")

    processor.process(body, headers)
    processor.process(body, headers)

    assert [(f["outcome"], f["status"]) for f in captured.fields()] == [
        ("unhandled", 200),
        ("duplicate", 200),
    ]
    assert {r.levelno for r in captured.records} == {logging.INFO}


def test_a_refused_delivery_is_a_warning_without_the_body(captured: Captured) -> None:
    processor = _processor(MemoryEventStore(), WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret="whsec_someone_else", id="evt_log_5")

    assert processor.process(body, headers).status == 400

    [record] = captured.records
    assert record.levelno == logging.WARNING
    assert captured.fields()[0] | {"duration_ms": 0} == {
        "event_id": None, "event_type": None, "account": None, "outcome": "rejected",
        "status": 400, "attempts": None, "handler_ms": 0.0, "store_ms": 0.0, "duration_ms": 0,
        "via": "webhook",
    }  # fmt: skip
    message = record.getMessage()
    assert "signature" in message
    assert "evt_log_5" not in message
    assert "whsec" not in message


def test_a_store_that_is_down_is_a_warning(captured: Captured) -> None:
    processor = _processor(DownStore(), WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_6")

    assert processor.process(body, headers).status == 503

    [record] = captured.records
    assert record.levelno == logging.WARNING
    assert (record.outcome, record.event_id, record.attempts) == ("unavailable", "evt_log_6", None)  # type: ignore[attr-defined]


def test_an_event_of_the_other_mode_is_recorded_ignored_at_info(captured: Captured) -> None:
    processor = _processor(MemoryEventStore(), WebhookRegistry(), livemode=True)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_7")

    assert processor.process(body, headers).status == 200

    assert [f["outcome"] for f in captured.fields()] == ["ignored"]
    assert captured.records[0].levelno == logging.INFO


def test_a_replay_is_logged_as_one(captured: Captured, clock: FakeClock) -> None:
    store = SlowStore(clock)
    processor = _processor(store, _slow_handlers(clock, fail=True))
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_log_8")
    processor.process(body, headers)
    captured.records.clear()

    result = processor.replay("evt_log_8")
    missing = processor.replay("evt_nope")

    assert (result.outcome, missing.outcome) == ("failed", "missing")
    first, second = captured.fields()
    assert (first["via"], first["attempts"], first["store_ms"]) == ("replay", 2, 200.0)
    assert (second["event_id"], second["outcome"], second["status"]) == ("evt_nope", "missing", 404)


async def test_an_async_replay_is_logged_as_one(captured: Captured) -> None:
    processor = _processor(MemoryEventStore(), WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_9")
    processor.process(body, headers)
    captured.records.clear()

    result = await processor.areplay("evt_log_9", force=True)

    assert result.outcome == "unhandled"
    assert [(f["via"], f["attempts"]) for f in captured.fields()] == [("replay", 2)]


def test_a_kit_logs_its_deliveries_and_replays(captured: Captured) -> None:
    kit = StripeKit(webhook_secret=SECRET, store="memory://")
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_10")

    kit.handle_webhook(body, headers)
    kit.replay("evt_log_10", force=True)

    assert [(f["via"], f["outcome"]) for f in captured.fields()] == [
        ("webhook", "unhandled"),
        ("replay", "unhandled"),
    ]


def test_the_fields_make_a_json_line(captured: Captured) -> None:
    """What a JSON formatter does with the record (docs/scale.md shows one)."""
    processor = _processor(MemoryEventStore(), WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_11")
    processor.process(body, headers)

    [record] = captured.records
    line = json.dumps({name: getattr(record, name) for name in FIELDS})

    assert json.loads(line)["event_id"] == "evt_log_11"


def test_nothing_is_formatted_while_the_logger_is_off(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    logging.getLogger(_observe.DELIVERY_LOGGER).setLevel(logging.ERROR)

    def fail(*args: Any) -> None:
        raise AssertionError("formatted a record no one reads")

    monkeypatch.setattr(_observe, "_log", fail)
    processor = _processor(MemoryEventStore(), WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_log_12")

    assert processor.process(body, headers).status == 200
    assert captured.records == []
