"""Replaying recorded events: a failed one runs again; final ones only when forced."""

from __future__ import annotations

import pytest

from stripekit import (
    ClaimOutcome,
    Dispatcher,
    Event,
    EventStatus,
    EventStore,
    StripeKit,
    WebhookProcessor,
    WebhookRegistry,
    parse_event,
)
from stripekit.testing import signed_event

SECRET = "whsec_replay"


class Flaky:
    """A handler that fails its first ``failures`` calls."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def __call__(self, event: Event) -> None:
        self.calls.append(event.id)
        if len(self.calls) <= self.failures:
            raise RuntimeError("the warehouse API timed out")


def _setup(store: EventStore, handler: Flaky) -> tuple[WebhookProcessor, Dispatcher]:
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler)
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=webhooks)
    # No webhook secret needed to replay: the payload was verified when received.
    return processor, Dispatcher(store, webhooks)


def test_a_failed_event_replays_to_processed(store: EventStore) -> None:
    handler = Flaky()
    processor, dispatcher = _setup(store, handler)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_failed")
    assert processor.process(body, headers).status == 500

    result = dispatcher.replay("evt_failed")

    assert (result.status, result.outcome, result.event_id) == (200, "processed", "evt_failed")
    assert handler.calls == ["evt_failed", "evt_failed"]
    stored = store.get("evt_failed")
    assert stored is not None
    assert (stored.status, stored.attempts) == (EventStatus.PROCESSED, 2)


def test_a_replay_that_fails_again_stays_failed_with_the_new_error(store: EventStore) -> None:
    handler = Flaky(failures=2)
    processor, dispatcher = _setup(store, handler)
    processor.process(*signed_event("invoice.paid", secret=SECRET, id="evt_twice"))
    result = dispatcher.replay("evt_twice")
    assert (result.status, result.outcome) == (500, "failed")
    stored = store.get("evt_twice")
    assert stored is not None
    assert stored.status is EventStatus.FAILED
    assert stored.attempts == 2
    assert "the warehouse API timed out" in (stored.last_error or "")


def test_a_processed_event_replays_only_when_forced(store: EventStore) -> None:
    handler = Flaky(failures=0)
    processor, dispatcher = _setup(store, handler)
    processor.process(*signed_event("invoice.paid", secret=SECRET, id="evt_done"))

    again = dispatcher.replay("evt_done")
    assert (again.status, again.outcome) == (200, "duplicate")
    assert handler.calls == ["evt_done"]

    forced = dispatcher.replay("evt_done", force=True)
    assert (forced.status, forced.outcome) == (200, "processed")
    assert handler.calls == ["evt_done", "evt_done"]


def test_an_unknown_event_is_missing(store: EventStore) -> None:
    _, dispatcher = _setup(store, Flaky())
    result = dispatcher.replay("evt_nowhere")
    assert (result.status, result.outcome) == (404, "missing")
    assert "evt_nowhere" in str(result.body["error"])


def test_an_event_held_by_a_live_worker_is_not_replayed(store: EventStore) -> None:
    handler = Flaky(failures=0)
    _, dispatcher = _setup(store, handler)
    body, _ = signed_event("invoice.paid", secret=SECRET, id="evt_busy")
    assert store.claim(parse_event(body), lease=300).outcome is ClaimOutcome.NEW
    result = dispatcher.replay("evt_busy", force=True)
    assert (result.status, result.outcome) == (409, "in_flight")
    assert handler.calls == []


async def test_areplay_is_the_async_twin(store: EventStore) -> None:
    handler = Flaky()
    processor, dispatcher = _setup(store, handler)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_async")
    assert (await processor.aprocess(body, headers)).status == 500
    assert (await dispatcher.areplay("evt_async")).outcome == "processed"
    assert (await processor.areplay("evt_async")).outcome == "duplicate"


def test_the_kit_replays_without_a_webhook_secret(store: EventStore) -> None:
    handler = Flaky()
    processor, _ = _setup(store, handler)
    processor.process(*signed_event("invoice.paid", secret=SECRET, id="evt_kit"))
    kit = StripeKit(secret_key="sk_test_1", store=store, webhooks=processor.registry)
    assert kit.replay("evt_kit").outcome == "processed"


@pytest.mark.parametrize("force", [False, True])
def test_an_ignored_event_replays_only_when_forced(store: EventStore, force: bool) -> None:
    handler = Flaky(failures=0)
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler)
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=webhooks, livemode=True)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_test_on_live")
    assert processor.process(body, headers).outcome == "ignored"
    result = processor.replay("evt_test_on_live", force=force)
    assert result.outcome == ("processed" if force else "duplicate")
    assert handler.calls == (["evt_test_on_live"] if force else [])


def test_a_unit_of_work_wraps_handlers_and_completion(store: EventStore) -> None:
    """Django's transaction.atomic, say: a handler's writes commit with the event's status."""
    from collections.abc import Iterator
    from contextlib import contextmanager

    log: list[str] = []

    @contextmanager
    def unit_of_work() -> Iterator[None]:
        log.append("begin")
        try:
            yield
        except BaseException:
            log.append("rollback")
            raise
        log.append("commit")

    handler = Flaky()
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler)
    processor = WebhookProcessor(
        secrets=[SECRET], store=store, registry=webhooks, unit_of_work=unit_of_work
    )
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_uow")
    assert processor.process(body, headers).status == 500
    assert log == ["begin", "rollback"]
    failed = store.get("evt_uow")
    assert failed is not None and failed.status is EventStatus.FAILED
    assert processor.process(body, headers).status == 200
    assert log == ["begin", "rollback", "begin", "commit"]
