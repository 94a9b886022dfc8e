"""The ORM event store: the same claim semantics as the core's stores, enforced by the database."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from stripekit import ClaimOutcome, EventStatus, parse_event
from stripekit.testing import event_body, make_event
from stripekit_django.models import WebhookEvent
from stripekit_django.store import DjangoEventStore


def event(event_id: str = "evt_1", event_type: str = "invoice.paid"):
    # A fixed `created`: a redelivery carries the very bytes of the first delivery,
    # whatever second the clock has moved on to.
    obj = {"id": "in_1", "object": "invoice"}
    return parse_event(event_body(make_event(event_type, obj, id=event_id, created=1_700_000_000)))


pytestmark = pytest.mark.django_db


def test_new_then_duplicate_after_completion() -> None:
    store = DjangoEventStore()
    first = store.claim(event(), lease=60)
    assert first.outcome is ClaimOutcome.NEW and first.token
    assert store.claim(event(), lease=60).outcome is ClaimOutcome.IN_FLIGHT
    assert store.complete("evt_1", first.token, status=EventStatus.PROCESSED)
    assert store.claim(event(), lease=60).outcome is ClaimOutcome.DUPLICATE
    row = store.get("evt_1")
    assert row is not None
    assert (row.status, row.attempts, row.type) == (EventStatus.PROCESSED, 1, "invoice.paid")
    assert row.payload == bytes(event().raw)
    assert row.processed_at is not None


def test_a_duplicate_costs_one_read_and_no_update() -> None:
    """A duplicate storm's deliveries (of a finished event, or one a live process holds)
    are answered after the refused INSERT and one read: no takeover UPDATE is tried."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = DjangoEventStore()
    done = store.claim(event("evt_done"), lease=60)
    store.complete("evt_done", done.token, status=EventStatus.PROCESSED)
    store.claim(event("evt_held"), lease=60)

    with CaptureQueriesContext(connection) as queries:
        assert store.claim(event("evt_done"), lease=60).outcome is ClaimOutcome.DUPLICATE
        assert store.claim(event("evt_held"), lease=60).outcome is ClaimOutcome.IN_FLIGHT
    kinds = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert "UPDATE" not in kinds
    assert kinds.count("SELECT") == 2


def test_a_failure_is_retried_and_a_stale_token_loses() -> None:
    store = DjangoEventStore()
    first = store.claim(event(), lease=60)
    assert store.fail("evt_1", first.token, error="boom")
    retry = store.claim(event(), lease=60)
    assert (retry.outcome, retry.attempts) == (ClaimOutcome.RETRY, 2)
    assert not store.complete("evt_1", first.token, status=EventStatus.PROCESSED)
    assert store.complete("evt_1", retry.token, status=EventStatus.PROCESSED)
    assert store.get("evt_1").last_error == "boom"  # type: ignore[union-attr]


def test_an_expired_lease_is_taken_over() -> None:
    store = DjangoEventStore()
    store.claim(event(), lease=60)
    WebhookEvent.objects.filter(id="evt_1").update(
        lease_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert store.claim(event(), lease=60).outcome is ClaimOutcome.RETRY


def test_replay_ignored_get_and_list() -> None:
    store = DjangoEventStore()
    assert store.record_ignored(event("evt_live"), reason="livemode mismatch")
    assert not store.record_ignored(event("evt_live"), reason="again")
    claim, row = store.claim_for_replay("evt_live", lease=60)
    assert claim.outcome is ClaimOutcome.DUPLICATE and row is not None
    forced, _ = store.claim_for_replay("evt_live", lease=60, force=True)
    assert forced.outcome is ClaimOutcome.RETRY
    assert store.claim_for_replay("evt_nope", lease=60) == (
        store.claim_for_replay("evt_nope", lease=60)[0],
        None,
    )
    store.claim(event("evt_sub", "customer.subscription.updated"), lease=60)
    assert [r.id for r in store.list(type="customer.subscription.*")] == ["evt_sub"]
    assert [r.id for r in store.list(status=EventStatus.PROCESSING)] == ["evt_sub", "evt_live"]
    assert store.get("evt_missing") is None
    with pytest.raises(ValueError, match="limit"):
        store.list(limit=0)


def _race(using: str) -> Counter[ClaimOutcome]:
    store = DjangoEventStore(using=using)
    barrier = threading.Barrier(50)
    outcomes: Counter[ClaimOutcome] = Counter()
    lock = threading.Lock()

    def claim() -> None:
        from django.db import connections

        try:
            barrier.wait()
            outcome = store.claim(event("evt_race"), lease=60).outcome
            with lock:
                outcomes[outcome] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_fifty_threads_one_new_on_sqlite() -> None:
    outcomes = _race("default")
    assert outcomes[ClaimOutcome.NEW] == 1
    assert sum(outcomes.values()) == 50


@pytest.mark.postgres
@pytest.mark.django_db(
    transaction=True, databases=["default", "pg"] if "pg" in settings.DATABASES else ["default"]
)
def test_fifty_threads_one_new_on_postgresql() -> None:
    from services import service_missing

    if "pg" not in settings.DATABASES:
        service_missing("PostgreSQL not reachable at 127.0.0.1:5432")
    outcomes = _race("pg")
    assert outcomes == Counter({ClaimOutcome.NEW: 1, ClaimOutcome.IN_FLIGHT: 49})


def test_a_claim_whose_worker_died_is_taken_over_at_once() -> None:
    import subprocess
    import sys

    store = DjangoEventStore()
    store.claim(event(), lease=300)
    code = "from stripekit.store._holders import current_holder; print(current_holder())"
    finished = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    elsewhere = "other-host|" + finished.split("|", 1)[1]
    WebhookEvent.objects.filter(id="evt_1").update(holder=elsewhere)
    assert store.claim(event(), lease=300).outcome is ClaimOutcome.IN_FLIGHT
    WebhookEvent.objects.filter(id="evt_1").update(holder=finished)
    retry = store.claim(event(), lease=300)
    assert (retry.outcome, retry.attempts) == (ClaimOutcome.RETRY, 2)
    assert store.complete("evt_1", retry.token, status=EventStatus.PROCESSED)
    assert WebhookEvent.objects.get(id="evt_1").holder is None


def test_the_backlog_counts_open_events_only() -> None:
    from stripekit import StatusBacklog
    from stripekit.webhooks._store import OPEN_STATUSES

    store = DjangoEventStore()
    assert store.backlog() == dict.fromkeys(OPEN_STATUSES, StatusBacklog())
    first = store.claim(event("evt_1"), lease=60)
    store.fail("evt_1", first.token, error="boom")
    store.claim(event("evt_2"), lease=60)
    done = store.claim(event("evt_3"), lease=60)
    store.complete("evt_3", done.token, status=EventStatus.PROCESSED)

    backlog = store.backlog()

    assert set(backlog) == set(OPEN_STATUSES)
    assert backlog[EventStatus.FAILED].count == 1
    assert backlog[EventStatus.FAILED].oldest == store.get("evt_1").received_at  # type: ignore[union-attr]
    assert backlog[EventStatus.PROCESSING].count == 1


# -- deferred mode: the same checks as tests/core/store/test_stores.py --


def test_a_queued_event_is_recorded_once_and_a_task_takes_it_once() -> None:
    store = DjangoEventStore()
    assert store.record_queued(event()) is None
    assert store.record_queued(event()) is EventStatus.QUEUED
    row = store.get("evt_1")
    assert (row.status, row.attempts) == (EventStatus.QUEUED, 0)  # type: ignore[union-attr]
    assert [r.id for r in store.list(status=EventStatus.QUEUED)] == ["evt_1"]

    claim, stored = store.claim_for_replay("evt_1", lease=60)
    assert (claim.outcome, claim.attempts) == (ClaimOutcome.RETRY, 1)
    assert stored.status is EventStatus.PROCESSING  # type: ignore[union-attr]
    assert store.claim_for_replay("evt_1", lease=60)[0].outcome is ClaimOutcome.IN_FLIGHT
    assert store.fail("evt_1", claim.token, error="boom")
    assert store.record_queued(event()) is EventStatus.FAILED
    again, _ = store.claim_for_replay("evt_1", lease=60)
    assert (again.outcome, again.attempts) == (ClaimOutcome.RETRY, 2)
    assert store.complete("evt_1", again.token, status=EventStatus.PROCESSED)
    assert store.claim_for_replay("evt_1", lease=60)[0].outcome is ClaimOutcome.DUPLICATE
    assert store.record_queued(event()) is EventStatus.PROCESSED


def test_an_inline_claim_takes_a_queued_event() -> None:
    store = DjangoEventStore()
    store.record_queued(event())
    claim = store.claim(event(), lease=60)
    assert (claim.outcome, claim.attempts) == (ClaimOutcome.RETRY, 1)


def test_max_attempts_is_the_budget_of_a_claim() -> None:
    store = DjangoEventStore()
    store.record_queued(event())
    for _ in range(2):
        claim, _ = store.claim_for_replay("evt_1", lease=60, max_attempts=2)
        assert claim.outcome is ClaimOutcome.RETRY
        store.fail("evt_1", claim.token, error="boom")
    assert store.claim_for_replay("evt_1", lease=60, max_attempts=2)[0].outcome is (
        ClaimOutcome.DUPLICATE
    )
    assert store.claim_for_replay("evt_1", lease=60)[0].attempts == 3


def test_sweepable_selects_what_was_left() -> None:
    store = DjangoEventStore()
    store.record_queued(event("evt_old_queued"))
    store.claim(event("evt_stuck"), lease=60)
    failed = store.claim(event("evt_failed"), lease=60)
    store.fail("evt_failed", failed.token, error="boom")
    done = store.claim(event("evt_done"), lease=60)
    store.complete("evt_done", done.token, status=EventStatus.PROCESSED)
    earlier = datetime.now(UTC) - timedelta(minutes=10)
    for offset, event_id in enumerate(("evt_old_queued", "evt_stuck", "evt_failed", "evt_done")):
        WebhookEvent.objects.filter(id=event_id).update(
            received_at=earlier + timedelta(seconds=offset)
        )
    store.record_queued(event("evt_new_queued"))  # its task has time yet

    assert store.sweepable(grace=60, max_attempts=3) == [
        "evt_old_queued",
        "evt_stuck",
        "evt_failed",
    ]
    assert store.sweepable(grace=60, max_attempts=1) == ["evt_old_queued"]
    assert store.sweepable(grace=60, max_attempts=3, limit=1) == ["evt_old_queued"]
    assert store.sweepable(grace=0, max_attempts=3)[-1] == "evt_new_queued"
    with pytest.raises(ValueError, match="max_attempts"):
        store.sweepable(grace=0, max_attempts=0)


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_take_a_queued_event_once_on_sqlite() -> None:
    store = DjangoEventStore()
    store.record_queued(event("evt_race"))
    barrier = threading.Barrier(20)
    outcomes: Counter[ClaimOutcome] = Counter()
    lock = threading.Lock()

    def take() -> None:
        from django.db import connections

        try:
            barrier.wait()
            claim, _ = store.claim_for_replay("evt_race", lease=60, max_attempts=3)
            with lock:
                outcomes[claim.outcome] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == Counter({ClaimOutcome.RETRY: 1, ClaimOutcome.IN_FLIGHT: 19})
