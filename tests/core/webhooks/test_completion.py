"""Recording a delivery's outcome: retried when the write fails, loud when the claim was lost."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import pytest

from stripekit import (
    Event,
    EventStatus,
    MemoryEventStore,
    WebhookProcessor,
    WebhookRegistry,
)
from stripekit.testing import signed_event

SECRET = "whsec_completion"


class FlakyStore(MemoryEventStore):
    """complete() and fail() raise the first ``failures`` times, then work."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    def _flaky(self) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OSError("the database connection dropped")

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        self._flaky()
        return super().complete(event_id, token, status=status)

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        self._flaky()
        return super().fail(event_id, token, error=error)


class LosingStore(MemoryEventStore):
    """complete() finds its claim taken over: what a lease shorter than the handlers gives."""

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        return False


def processor(store: MemoryEventStore, handler: Any = None, **options: Any) -> WebhookProcessor:
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler or (lambda event: None))
    return WebhookProcessor(secrets=[SECRET], store=store, registry=webhooks, **options)


@pytest.fixture(params=["sync", "async"])
def deliver(request: pytest.FixtureRequest) -> Any:
    async def run(target: WebhookProcessor, event_id: str) -> Any:
        body, headers = signed_event("invoice.paid", secret=SECRET, id=event_id)
        if request.param == "sync":
            return target.process(body, headers)
        return await target.aprocess(body, headers)

    return run


async def test_a_completion_that_fails_once_is_written_again(deliver: Any) -> None:
    store = FlakyStore(failures=2)
    result = await deliver(processor(store), "evt_flaky")
    assert result.status == 200 and store.attempts == 3
    assert store.get("evt_flaky").status is EventStatus.PROCESSED  # type: ignore[union-attr]


async def test_a_failure_record_is_retried_too(deliver: Any) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("out of stock")

    store = FlakyStore(failures=1)
    result = await deliver(processor(store, broken), "evt_broken")
    assert result.status == 500
    stored = store.get("evt_broken")
    assert stored is not None and stored.status is EventStatus.FAILED
    assert "out of stock" in (stored.last_error or "")


async def test_a_store_that_stays_down_is_a_503_after_three_attempts(deliver: Any) -> None:
    store = FlakyStore(failures=10)
    result = await deliver(processor(store), "evt_down")
    assert result.status == 503 and store.attempts == 3
    # Still claimed: the redelivery after the lease (or a replay) runs it again.
    assert store.get("evt_down").status is EventStatus.PROCESSING  # type: ignore[union-attr]


def test_inside_the_apps_transaction_a_failed_write_is_not_retried() -> None:
    # Django's atomic: a failed statement poisons the transaction; it rolls back whole.
    store = FlakyStore(failures=1)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_uow")
    result = processor(store, unit_of_work=nullcontext).process(body, headers)
    assert result.status == 503 and store.attempts == 1


async def test_a_lost_claim_is_said_loudly(deliver: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "stripekit.webhooks")
    result = await deliver(processor(LosingStore()), "evt_lost")
    assert result.status == 200  # the delivery that took it over records the outcome
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "evt_lost" in logged and "claim was lost" in logged
    assert "STRIPEKIT_CLAIM_LEASE" in logged
