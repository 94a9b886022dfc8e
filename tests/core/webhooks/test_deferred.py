"""Deferred processing: the route records the event queued and enqueues its id; a task runs
it through the store's claim; the sweeper runs what was left. On every store (memory,
SQLite, PostgreSQL); the real brokers are in tests/queues."""

from __future__ import annotations

import logging
import threading
from collections import Counter

import anyio.from_thread
import pytest

from stripekit import (
    ConfigurationError,
    DeferredProcessingError,
    Event,
    EventStatus,
    EventStore,
    MemoryEventStore,
    StripeKit,
    WebhookRegistry,
)
from stripekit.testing import signed_event

SECRET = "whsec_deferred"


class ListQueue:
    """A task queue that only remembers what it was sent (a worker runs it later)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def enqueue(self, event_id: str) -> None:
        self.sent.append(event_id)


class AsyncListQueue(ListQueue):
    async def aenqueue(self, event_id: str) -> None:
        self.sent.append(f"async:{event_id}")


class DownQueue:
    """A broker that cannot be reached."""

    def enqueue(self, event_id: str) -> None:
        raise ConnectionRefusedError(111, "Connection refused")


class Handler:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.calls[event.id] += 1
            calls = sum(self.calls.values())
        if calls <= self.failures:
            raise RuntimeError("the warehouse API timed out")


def deferred_kit(
    store: EventStore, queue: object, handler: Handler, **settings: object
) -> StripeKit:
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler)
    return StripeKit(
        webhook_secret=SECRET,
        store=store,
        webhooks=webhooks,
        billing=False,
        processing="deferred",
        queue=queue,  # type: ignore[arg-type]
        **settings,
    )


def deliver(kit: StripeKit, event_id: str) -> tuple[int, dict[str, object]]:
    body, headers = signed_event("invoice.paid", secret=SECRET, id=event_id)
    result = kit.handle_webhook(body, headers)
    return result.status, result.body


def test_the_route_records_queued_enqueues_the_id_and_runs_nothing(store):
    queue, handler = ListQueue(), Handler()
    kit = deferred_kit(store, queue, handler)

    assert deliver(kit, "evt_1") == (200, {"status": "queued", "event": "evt_1"})

    assert queue.sent == ["evt_1"]
    assert handler.calls == {}
    stored = store.get("evt_1")
    assert (stored.status, stored.attempts) == (EventStatus.QUEUED, 0)


def test_a_task_runs_the_handlers_once_however_often_it_is_delivered(store):
    queue, handler = ListQueue(), Handler()
    kit = deferred_kit(store, queue, handler)
    deliver(kit, "evt_1")

    first = kit.run_deferred("evt_1")
    again = kit.run_deferred("evt_1")

    assert (first.outcome, again.outcome) == ("processed", "duplicate")
    assert handler.calls == {"evt_1": 1}
    assert store.get("evt_1").status is EventStatus.PROCESSED


def test_a_duplicate_delivery_enqueues_only_what_is_not_done(store):
    queue, handler = ListQueue(), Handler()
    kit = deferred_kit(store, queue, handler)
    deliver(kit, "evt_1")

    # Still queued: a second task is harmless (the claim lets one run the handlers).
    assert deliver(kit, "evt_1") == (200, {"status": "queued", "event": "evt_1"})
    kit.run_deferred("evt_1")
    kit.run_deferred("evt_1")
    # Done: answered duplicate, nothing sent.
    assert deliver(kit, "evt_1") == (200, {"status": "duplicate", "event": "evt_1"})

    assert queue.sent == ["evt_1", "evt_1"]
    assert handler.calls == {"evt_1": 1}


def test_broker_down_the_event_stays_queued_and_the_sweeper_runs_it(store, clock, caplog):
    handler = Handler()
    kit = deferred_kit(store, DownQueue(), handler, sweep_grace=60)

    with caplog.at_level(logging.WARNING, logger="stripekit.webhooks"):
        assert deliver(kit, "evt_1") == (200, {"status": "queued", "event": "evt_1"})

    assert "could not enqueue evt_1" in caplog.text
    assert "sweeper" in caplog.text
    assert store.get("evt_1").status is EventStatus.QUEUED
    assert kit.sweep().results == []  # within the grace period: the queue's to run
    clock.advance(60)
    report = kit.sweep()
    assert report.counts == {"processed": 1}
    assert report.ok
    assert handler.calls == {"evt_1": 1}
    assert kit.sweep().results == []


def test_a_failing_handler_raises_for_the_queue_to_retry_and_shows_failed(store):
    handler = Handler(failures=1)
    kit = deferred_kit(store, ListQueue(), handler)
    deliver(kit, "evt_1")

    with pytest.raises(DeferredProcessingError, match="evt_1 was not processed") as caught:
        kit.run_deferred("evt_1")

    assert (caught.value.event_id, caught.value.outcome) == ("evt_1", "failed")
    failed = store.list(status=EventStatus.FAILED)
    assert [row.id for row in failed] == ["evt_1"]
    assert "the warehouse API timed out" in failed[0].last_error
    assert kit.run_deferred("evt_1").outcome == "processed"  # the queue's retry
    assert handler.calls == {"evt_1": 2}


def test_the_error_survives_pickling_between_processes():
    import pickle

    from stripekit import WebhookResult

    error = DeferredProcessingError(WebhookResult(500, {}, "failed", "evt_1"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.event_id, copy.outcome, str(copy)) == ("evt_1", "failed", str(error))


def test_a_task_for_an_event_the_store_does_not_have_says_which_database(store):
    kit = deferred_kit(store, ListQueue(), Handler())
    with pytest.raises(DeferredProcessingError, match="STRIPEKIT_DATABASE_URL"):
        kit.run_deferred("evt_nowhere")


def test_the_sweeper_keeps_to_the_retry_budget(store, clock):
    handler = Handler(failures=100)
    kit = deferred_kit(store, ListQueue(), handler, sweep_grace=0, sweep_max_attempts=3)
    deliver(kit, "evt_1")

    outcomes = [kit.sweep().counts for _ in range(4)]

    assert outcomes == [{"failed": 1}, {"failed": 1}, {"failed": 1}, {}]
    assert not kit.sweep(max_attempts=4).ok
    assert handler.calls == {"evt_1": 4}
    assert store.get("evt_1").attempts == 4


def test_the_sweeper_takes_over_a_worker_past_its_lease(store, clock):
    handler = Handler()
    kit = deferred_kit(store, ListQueue(), handler, sweep_grace=0, claim_lease=30)
    deliver(kit, "evt_1")
    store.claim_for_replay("evt_1", lease=30)  # a worker that never finishes

    assert kit.sweep().counts == {"in_flight": 1}
    clock.advance(30)
    assert kit.sweep().counts == {"processed": 1}
    assert handler.calls == {"evt_1": 1}


def test_two_sweepers_racing_run_each_event_once(make_store):
    store = make_store(engine_options={"pool_size": 8, "max_overflow": 0})
    handler = Handler()
    kits = [deferred_kit(store, DownQueue(), handler, sweep_grace=0) for _ in range(2)]
    for n in range(30):
        deliver(kits[0], f"evt_{n}")
    barrier = threading.Barrier(2)
    reports = []

    def sweeper(kit: StripeKit) -> None:
        barrier.wait()
        reports.append(kit.sweep())

    threads = [threading.Thread(target=sweeper, args=(kit,)) for kit in kits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert handler.calls == {f"evt_{n}": 1 for n in range(30)}
    ran = Counter(
        r.event_id for report in reports for r in report.results if r.outcome == "processed"
    )
    assert sorted(ran) == sorted(f"evt_{n}" for n in range(30)) and set(ran.values()) == {1}
    assert {row.status for row in store.list(limit=100)} == {EventStatus.PROCESSED}


def test_deferred_mode_needs_a_queue():
    kit = StripeKit(webhook_secret=SECRET, store="memory://", processing="deferred")
    with pytest.raises(ConfigurationError, match="needs a task queue"):
        kit.handle_webhook(*signed_event("invoice.paid", secret=SECRET))


def test_the_setting_chooses_the_mode_and_use_queue_wires_it_late(monkeypatch):
    monkeypatch.setenv("STRIPEKIT_PROCESSING", "deferred")
    handler = Handler()
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler)
    kit = StripeKit(webhook_secret=SECRET, store="memory://", webhooks=webhooks, billing=False)
    assert kit.processing == "deferred"
    queue = ListQueue()
    kit.use_queue(queue)
    deliver(kit, "evt_1")
    other = ListQueue()
    kit.use_queue(other)
    deliver(kit, "evt_2")
    assert (queue.sent, other.sent) == (["evt_1"], ["evt_2"])
    with pytest.raises(ConfigurationError, match="enqueue"):
        kit.use_queue(object())  # type: ignore[arg-type]
    assert StripeKit(webhook_secret=SECRET, processing="inline").processing == "inline"
    with pytest.raises(ConfigurationError, match="processing='later'"):
        StripeKit(webhook_secret=SECRET, processing="later")  # type: ignore[arg-type]


@pytest.mark.parametrize("queue_type", [ListQueue, AsyncListQueue, DownQueue])
def test_the_async_route_defers_alike(queue_type):
    store, handler, queue = MemoryEventStore(), Handler(), queue_type()
    kit = deferred_kit(store, queue, handler)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_1")
    with anyio.from_thread.start_blocking_portal() as portal:
        result = portal.call(kit.ahandle_webhook, body, headers)
        assert (result.status, result.outcome) == (200, "queued")
        assert portal.call(kit.arun_deferred, "evt_1").outcome == "processed"
        assert portal.call(kit.arun_deferred, "evt_1").outcome == "duplicate"
        assert portal.call(kit.asweep).results == []
        portal.call(kit.aclose)
    if queue_type is not DownQueue:
        expected = "async:evt_1" if queue_type is AsyncListQueue else "evt_1"
        assert queue.sent == [expected]
    assert handler.calls == {"evt_1": 1}
