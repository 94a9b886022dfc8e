"""Every EventStore implementation behaves the same: memory, SQLite, PostgreSQL (the Django
store runs the deferred-mode checks in tests/django/test_store.py)."""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from stripekit import Claim, ClaimOutcome, EventStatus, EventStore, parse_event
from stripekit.store._rows import MAX_ERROR_LENGTH

NEW, RETRY = ClaimOutcome.NEW, ClaimOutcome.RETRY
IN_FLIGHT, DUPLICATE = ClaimOutcome.IN_FLIGHT, ClaimOutcome.DUPLICATE
LEASE = 30.0
GRACE = 60.0


def test_store_satisfies_the_protocol(store):
    assert isinstance(store, EventStore)


def test_first_claim_is_new(store, make_event, clock):
    claim = store.claim(make_event("evt_1"), lease=LEASE)

    assert claim.outcome is NEW
    assert claim.outcome.should_process
    assert len(claim.token) >= 32
    assert claim.attempts == 1
    stored = store.get("evt_1")
    assert stored.status is EventStatus.PROCESSING
    assert stored.attempts == 1
    assert stored.received_at == clock.now
    assert stored.last_error is None
    assert stored.processed_at is None


def test_every_claim_gets_its_own_token(store, make_event):
    first = store.claim(make_event("evt_1"), lease=LEASE)
    second = store.claim(make_event("evt_2"), lease=LEASE)
    store.fail("evt_1", first.token, error="boom")
    retry = store.claim(make_event("evt_1"), lease=LEASE)

    assert len({first.token, second.token, retry.token}) == 3


@pytest.mark.parametrize("status", [EventStatus.PROCESSED, EventStatus.UNHANDLED])
def test_completed_event_is_a_duplicate(store, make_event, clock, status):
    event = make_event("evt_1")
    claim = store.claim(event, lease=LEASE)
    clock.advance(2)

    assert store.complete("evt_1", claim.token, status=status) is True
    again = store.claim(event, lease=LEASE)

    assert again == Claim(DUPLICATE)
    assert not again.outcome.should_process
    stored = store.get("evt_1")
    assert stored.status is status
    assert stored.processed_at == clock.now
    assert stored.attempts == 1


def test_complete_accepts_the_status_as_a_plain_string(store, make_event):
    claim = store.claim(make_event("evt_1"), lease=LEASE)

    assert store.complete("evt_1", claim.token, status="unhandled") is True
    assert store.get("evt_1").status is EventStatus.UNHANDLED


def test_claimed_event_is_in_flight_while_its_lease_runs(store, make_event, clock):
    event = make_event("evt_1")
    store.claim(event, lease=LEASE)
    clock.advance(LEASE - 1)

    assert store.claim(event, lease=LEASE) == Claim(IN_FLIGHT)
    assert store.get("evt_1").attempts == 1


def test_failed_event_is_retried_and_attempts_count_up(store, make_event):
    event = make_event("evt_1")
    first = store.claim(event, lease=LEASE)
    assert store.fail("evt_1", first.token, error="boom") is True
    failed = store.get("evt_1")
    assert failed.status is EventStatus.FAILED
    assert failed.last_error == "boom"

    second = store.claim(event, lease=LEASE)
    assert (second.outcome, second.attempts) == (RETRY, 2)
    assert second.outcome.should_process
    assert store.get("evt_1").last_error == "boom"  # kept while the retry runs
    assert store.claim(event, lease=LEASE).outcome is IN_FLIGHT

    store.fail("evt_1", second.token, error="bang")
    third = store.claim(event, lease=LEASE)
    assert (third.outcome, third.attempts) == (RETRY, 3)
    assert store.complete("evt_1", third.token, status=EventStatus.PROCESSED)

    done = store.get("evt_1")
    assert (done.status, done.attempts, done.last_error) == (EventStatus.PROCESSED, 3, "bang")


def test_expired_lease_is_taken_over(store, make_event, clock):
    event = make_event("evt_1")
    first = store.claim(event, lease=LEASE)
    clock.advance(LEASE - 0.5)
    assert store.claim(event, lease=LEASE).outcome is IN_FLIGHT
    clock.advance(0.5)  # the lease ends now: expired

    second = store.claim(event, lease=10)

    assert (second.outcome, second.attempts) == (RETRY, 2)
    assert second.token != first.token
    clock.advance(9)
    assert store.claim(event, lease=LEASE).outcome is IN_FLIGHT  # the new, shorter lease
    clock.advance(1)
    assert store.claim(event, lease=LEASE).outcome is RETRY


def test_stale_token_changes_nothing(store, make_event, clock):
    event = make_event("evt_1")
    stale = store.claim(event, lease=LEASE)
    clock.advance(LEASE)
    fresh = store.claim(event, lease=LEASE)
    before = store.get("evt_1")

    assert store.complete("evt_1", stale.token, status=EventStatus.PROCESSED) is False
    assert store.fail("evt_1", stale.token, error="late failure") is False
    assert store.get("evt_1") == before
    assert store.claim(event, lease=LEASE).outcome is IN_FLIGHT
    assert store.complete("evt_1", fresh.token, status=EventStatus.PROCESSED) is True
    assert store.fail("evt_1", stale.token, error="later still") is False
    assert store.get("evt_1").status is EventStatus.PROCESSED


def test_token_is_spent_by_complete_or_fail(store, make_event):
    first = store.claim(make_event("evt_1"), lease=LEASE)
    assert store.complete("evt_1", first.token, status=EventStatus.PROCESSED) is True
    assert store.complete("evt_1", first.token, status=EventStatus.UNHANDLED) is False
    assert store.fail("evt_1", first.token, error="boom") is False
    assert store.get("evt_1").status is EventStatus.PROCESSED

    second = store.claim(make_event("evt_2"), lease=LEASE)
    assert store.fail("evt_2", second.token, error="boom") is True
    assert store.complete("evt_2", second.token, status=EventStatus.PROCESSED) is False
    assert store.fail("evt_2", second.token, error="again") is False
    assert store.get("evt_2").last_error == "boom"


@pytest.mark.parametrize("token", ["", "0" * 32, "not-a-token"])
def test_wrong_token_is_refused(store, make_event, token):
    store.claim(make_event("evt_1"), lease=LEASE)

    assert store.complete("evt_1", token, status=EventStatus.PROCESSED) is False
    assert store.fail("evt_1", token, error="boom") is False
    assert store.get("evt_1").status is EventStatus.PROCESSING


def test_unknown_event_cannot_be_completed(store):
    assert store.complete("evt_missing", "0" * 32, status=EventStatus.PROCESSED) is False
    assert store.fail("evt_missing", "0" * 32, error="boom") is False
    assert store.get("evt_missing") is None


@pytest.mark.parametrize(
    "status", [EventStatus.PROCESSING, EventStatus.FAILED, EventStatus.IGNORED, "done"]
)
def test_complete_takes_only_processed_or_unhandled(store, make_event, status):
    claim = store.claim(make_event("evt_1"), lease=LEASE)

    with pytest.raises(ValueError, match="PROCESSED or UNHANDLED"):
        store.complete("evt_1", claim.token, status=status)
    assert store.get("evt_1").status is EventStatus.PROCESSING


@pytest.mark.parametrize("lease", [0, -1, math.nan, math.inf, 1e12])
def test_lease_must_be_a_positive_number_of_seconds(store, make_event, lease):
    with pytest.raises(ValueError, match="lease"):
        store.claim(make_event("evt_1"), lease=lease)
    with pytest.raises(ValueError, match="lease"):
        store.claim_for_replay("evt_1", lease=lease)
    assert store.get("evt_1") is None


def test_ignored_event_is_recorded_once_and_never_dispatched(store, make_event, clock):
    event = make_event("evt_1", livemode=True)

    assert store.record_ignored(event, reason="livemode mismatch") is True
    assert store.record_ignored(event, reason="again") is False
    assert store.claim(event, lease=LEASE) == Claim(DUPLICATE)
    stored = store.get("evt_1")
    assert stored.status is EventStatus.IGNORED
    assert stored.last_error == "livemode mismatch"
    assert stored.attempts == 0
    assert stored.processed_at == clock.now
    assert stored.payload == event.raw


def test_claimed_event_cannot_be_recorded_as_ignored(store, make_event):
    store.claim(make_event("evt_1"), lease=LEASE)

    assert store.record_ignored(make_event("evt_1"), reason="too late") is False
    assert store.get("evt_1").status is EventStatus.PROCESSING


def test_stored_event_keeps_the_event_fields(store, make_event, clock):
    event = make_event(
        "evt_1", "customer.subscription.updated", livemode=True, account="acct_1", created=1
    )
    store.claim(event, lease=LEASE)

    stored = store.get("evt_1")

    assert (stored.id, stored.type) == ("evt_1", "customer.subscription.updated")
    assert (stored.livemode, stored.account) == (True, "acct_1")
    assert stored.created == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert stored.received_at == clock.now
    assert stored.created.tzinfo is UTC
    assert stored.received_at.tzinfo is UTC
    store.claim(make_event("evt_2"), lease=LEASE)
    assert store.get("evt_2").account is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"evt_1","object":"event","type":"invoice.paid","created":1,"data":{"object":{}}}',
        # Odd spacing, key order and escapes: the store must not re-serialise.
        '{ "type" : "invoice.paid", "id":"evt_1" ,"object":"event","created":1,\n'
        '"data":{"object":{"name":"Zoë \u20ac \U0001f600",'
        '"raw":"caf\\u00e9 \\ud83d\\ude00"}}}'.encode(),
        json.dumps(
            {
                "id": "evt_1",
                "object": "event",
                "type": "invoice.paid",
                "created": 1,
                "data": {"object": {"description": "é" * (512 * 1024)}},  # 1 MiB of UTF-8
            },
            ensure_ascii=False,
        ).encode(),
    ],
    ids=["ascii", "non-ascii", "1MiB"],
)
def test_payload_round_trips_byte_for_byte(store, body):
    event = parse_event(body)
    store.claim(event, lease=LEASE)

    assert store.get("evt_1").payload == body
    assert store.list()[0].payload == body
    assert type(store.get("evt_1").payload) is bytes


def test_long_error_is_cut_keeping_head_and_tail(store, make_event):
    claim = store.claim(make_event("evt_1"), lease=LEASE)
    error = "handler: Traceback\n" + "x" * 100_000 + "\nValueError: the real cause"

    store.fail("evt_1", claim.token, error=error)

    stored = store.get("evt_1").last_error
    assert len(stored) <= MAX_ERROR_LENGTH
    assert stored.startswith("handler: Traceback\n")
    assert stored.endswith("ValueError: the real cause")
    assert "characters in all" in stored


def test_error_with_nul_and_lone_surrogate_is_stored(store, make_event):
    claim = store.claim(make_event("evt_1"), lease=LEASE)

    assert store.fail("evt_1", claim.token, error="bad\x00byte \ud800 é") is True
    assert store.get("evt_1").last_error == "bad\\x00byte \\ud800 é"


# -- list --


@pytest.fixture
def recorded(store, make_event, clock):
    """Six events received one second apart, in various states."""
    specs = [
        ("evt_a", "customer.created", EventStatus.PROCESSED),
        ("evt_b", "customer.subscription.created", EventStatus.PROCESSED),
        ("evt_c", "customer.subscription.updated", EventStatus.FAILED),
        ("evt_d", "payment_intent.succeeded", EventStatus.UNHANDLED),
        ("evt_e", "customer.subscription.deleted", EventStatus.PROCESSING),
        ("evt_f", "invoice.paid", EventStatus.IGNORED),
    ]
    for event_id, event_type, status in specs:
        clock.advance(1)
        event = make_event(event_id, event_type)
        if status is EventStatus.IGNORED:
            store.record_ignored(event, reason="test")
            continue
        claim = store.claim(event, lease=LEASE)
        if status is EventStatus.FAILED:
            store.fail(event_id, claim.token, error="boom")
        elif status is not EventStatus.PROCESSING:
            store.complete(event_id, claim.token, status=status)
    return store


def ids(events):
    return [event.id for event in events]


def test_list_is_newest_received_first(recorded):
    assert ids(recorded.list()) == ["evt_f", "evt_e", "evt_d", "evt_c", "evt_b", "evt_a"]
    assert ids(recorded.list(limit=2)) == ["evt_f", "evt_e"]


def test_list_by_exact_type(recorded):
    assert ids(recorded.list(type="customer.created")) == ["evt_a"]
    assert recorded.list(type="customer") == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("customer.subscription.*", ["evt_e", "evt_c", "evt_b"]),
        ("customer.*", ["evt_e", "evt_c", "evt_b", "evt_a"]),
        ("*.created", ["evt_b", "evt_a"]),
        ("customer.*.updated", ["evt_c"]),
        ("*", ["evt_f", "evt_e", "evt_d", "evt_c", "evt_b", "evt_a"]),
        ("payment_intent.*", ["evt_d"]),
        ("payment%intent.*", []),  # LIKE's wildcards are plain characters here
        ("payment?intent.*", []),
        ("paymentXintent.*", []),
        ("customer.subscription.*d", ["evt_e", "evt_c", "evt_b"]),
    ],
)
def test_list_by_type_pattern(recorded, pattern, expected):
    assert ids(recorded.list(type=pattern)) == expected


def test_list_by_status(recorded):
    assert ids(recorded.list(status=EventStatus.PROCESSED)) == ["evt_b", "evt_a"]
    assert ids(recorded.list(status=EventStatus.FAILED)) == ["evt_c"]
    assert ids(recorded.list(status=EventStatus.PROCESSING)) == ["evt_e"]
    assert ids(recorded.list(status=EventStatus.IGNORED)) == ["evt_f"]
    assert ids(recorded.list(status="unhandled")) == ["evt_d"]


def test_list_since_is_inclusive(recorded):
    # evt_a was received at 00:00:01 ... evt_f at 00:00:06
    assert ids(recorded.list(since=datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC))) == [
        "evt_f",
        "evt_e",
    ]
    assert recorded.list(since=datetime(2024, 1, 1, 0, 0, 7, tzinfo=UTC)) == []


def test_list_since_takes_any_timezone(recorded):
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=1))
    since = datetime(2024, 1, 1, 1, 0, 5, tzinfo=paris)  # = 00:00:05 UTC
    assert ids(recorded.list(since=since)) == ["evt_f", "evt_e"]


def test_list_filters_combine(recorded):
    found = recorded.list(type="customer.*", status=EventStatus.PROCESSED, limit=1)
    assert ids(found) == ["evt_b"]


def test_list_refuses_naive_since_and_empty_limit(recorded):
    with pytest.raises(ValueError, match="timezone-aware"):
        recorded.list(since=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="limit"):
        recorded.list(limit=0)


def test_list_of_an_empty_store(store):
    assert list(store.list()) == []


# -- claim_for_replay --


def test_replay_of_an_unknown_event(store):
    assert store.claim_for_replay("evt_missing", lease=LEASE) == (Claim(DUPLICATE), None)


def test_replay_takes_a_failed_event_over(store, make_event):
    event = make_event("evt_1")
    first = store.claim(event, lease=LEASE)
    store.fail("evt_1", first.token, error="boom")

    claim, stored = store.claim_for_replay("evt_1", lease=LEASE)

    assert (claim.outcome, claim.attempts) == (RETRY, 2)
    assert (stored.status, stored.attempts, stored.last_error) == (
        EventStatus.PROCESSING,
        2,
        "boom",
    )
    assert parse_event(stored.payload).id == "evt_1"
    assert store.claim(event, lease=LEASE).outcome is IN_FLIGHT
    assert store.complete("evt_1", claim.token, status=EventStatus.PROCESSED) is True


@pytest.mark.parametrize("status", [EventStatus.PROCESSED, EventStatus.UNHANDLED, "ignored"])
def test_replay_of_a_final_event_needs_force(store, make_event, status):
    event = make_event("evt_1")
    if status == "ignored":
        store.record_ignored(event, reason="livemode mismatch")
        attempts = 0
    else:
        claim = store.claim(event, lease=LEASE)
        store.complete("evt_1", claim.token, status=status)
        attempts = 1

    claim, stored = store.claim_for_replay("evt_1", lease=LEASE)
    assert claim == Claim(DUPLICATE)
    assert stored.status == status

    claim, stored = store.claim_for_replay("evt_1", lease=LEASE, force=True)
    assert (claim.outcome, claim.attempts) == (RETRY, attempts + 1)
    assert (stored.status, stored.processed_at) == (EventStatus.PROCESSING, None)
    assert store.complete("evt_1", claim.token, status=EventStatus.PROCESSED) is True
    assert store.get("evt_1").status is EventStatus.PROCESSED


@pytest.mark.parametrize("force", [False, True])
def test_replay_leaves_a_live_lease_alone(store, make_event, force):
    first = store.claim(make_event("evt_1"), lease=LEASE)

    claim, stored = store.claim_for_replay("evt_1", lease=LEASE, force=force)

    assert claim == Claim(IN_FLIGHT)
    assert (stored.status, stored.attempts) == (EventStatus.PROCESSING, 1)
    assert store.complete("evt_1", first.token, status=EventStatus.PROCESSED) is True


def test_replay_takes_an_expired_lease_over(store, make_event, clock):
    first = store.claim(make_event("evt_1"), lease=LEASE)
    clock.advance(LEASE)

    claim, _ = store.claim_for_replay("evt_1", lease=LEASE)

    assert (claim.outcome, claim.attempts) == (RETRY, 2)
    assert store.complete("evt_1", first.token, status=EventStatus.PROCESSED) is False
    assert store.fail("evt_1", claim.token, error="still broken") is True


# -- concurrency --

THREADS = 50


def race(store, call, rounds):
    """Run ``call(store, round)`` in THREADS threads at once, per round; the outcomes."""
    results = []
    with ThreadPoolExecutor(THREADS) as pool:
        for round_ in range(rounds):
            barrier = threading.Barrier(THREADS)

            def run(round_=round_, barrier=barrier):
                barrier.wait()
                return call(store, round_)

            futures = [pool.submit(run) for _ in range(THREADS)]
            results.append([future.result() for future in futures])
    return results


def test_concurrent_first_claims_have_one_winner(make_store, make_event):
    store = make_store(engine_options={"pool_size": THREADS, "max_overflow": 0})
    store.list()  # the tables exist before the race
    events = [make_event(f"evt_race_{n}") for n in range(5)]

    rounds = race(store, lambda store, n: store.claim(events[n], lease=LEASE), len(events))

    for n, claims in enumerate(rounds):
        outcomes = [claim.outcome for claim in claims]
        assert outcomes.count(NEW) == 1, outcomes
        assert outcomes.count(IN_FLIGHT) == THREADS - 1, outcomes
        assert store.get(f"evt_race_{n}").attempts == 1


def test_concurrent_retries_have_one_winner(make_store, make_event, clock):
    store = make_store(engine_options={"pool_size": THREADS, "max_overflow": 0})
    events = [make_event(f"evt_race_{n}") for n in range(5)]
    for n, event in enumerate(events):
        claim = store.claim(event, lease=LEASE)
        if n % 2:
            store.fail(event.id, claim.token, error="boom")
    clock.advance(LEASE)  # the others' leases have run out

    rounds = race(store, lambda store, n: store.claim(events[n], lease=LEASE), len(events))

    for n, claims in enumerate(rounds):
        winners = [claim for claim in claims if claim.outcome is RETRY]
        assert len(winners) == 1
        assert winners[0].attempts == 2
        assert [claim.outcome for claim in claims].count(IN_FLIGHT) == THREADS - 1
        assert store.complete(f"evt_race_{n}", winners[0].token, status=EventStatus.PROCESSED)


def test_memory_tokens_stay_unique_across_entropy_batches(make_event, clock):
    from stripekit import MemoryEventStore

    store = MemoryEventStore(clock=clock)
    tokens = [store.claim(make_event(f"evt_{n}"), lease=LEASE).token for n in range(1000)]

    assert len(set(tokens)) == len(tokens)
    assert all(len(token) == 32 and int(token, 16) >= 0 for token in tokens)


def test_memory_store_refuses_a_naive_clock(make_event):
    from stripekit import MemoryEventStore

    store = MemoryEventStore(clock=lambda: datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.claim(make_event("evt_1"), lease=LEASE)


# -- backlog: what the health route and the metrics read -------------------------------------


def test_an_empty_store_has_an_empty_backlog_for_every_open_status(store):
    from stripekit import StatusBacklog
    from stripekit.webhooks._store import FINAL_STATUSES, OPEN_STATUSES

    backlog = store.backlog()

    # Every status that is not final, whatever statuses EventStatus gains later.
    assert set(backlog) == set(OPEN_STATUSES) == set(EventStatus) - FINAL_STATUSES
    assert set(backlog.values()) == {StatusBacklog(0, None)}


def test_the_backlog_counts_open_events_and_finds_the_oldest(store, make_event, clock):
    from stripekit import StatusBacklog

    started = clock.now
    failed = store.claim(make_event("evt_old_failure"), lease=LEASE)
    clock.advance(10)
    store.fail("evt_old_failure", failed.token, error="boom")
    second = store.claim(make_event("evt_new_failure"), lease=LEASE)
    store.fail("evt_new_failure", second.token, error="boom")
    clock.advance(10)
    store.claim(make_event("evt_running"), lease=LEASE)
    done = store.claim(make_event("evt_done"), lease=LEASE)
    store.complete("evt_done", done.token, status=EventStatus.PROCESSED)
    store.record_ignored(make_event("evt_ignored"), reason="test event on a live key")
    store.record_queued(make_event("evt_waiting"))

    backlog = store.backlog()

    failed_backlog = backlog[EventStatus.FAILED]
    assert (failed_backlog.count, failed_backlog.oldest) == (2, started)
    running = backlog[EventStatus.PROCESSING]
    assert (running.count, running.oldest) == (1, clock.now)
    assert backlog[EventStatus.QUEUED] == StatusBacklog(1, clock.now)
    # Final events (processed, unhandled, ignored) are not counted: they are not read.
    assert set(backlog) == {EventStatus.FAILED, EventStatus.PROCESSING, EventStatus.QUEUED}


def test_a_retried_event_leaves_the_failed_backlog(store, make_event):
    claim = store.claim(make_event("evt_1"), lease=LEASE)
    store.fail("evt_1", claim.token, error="boom")
    retry = store.claim(make_event("evt_1"), lease=LEASE)
    store.complete("evt_1", retry.token, status=EventStatus.PROCESSED)

    assert store.backlog()[EventStatus.FAILED].count == 0
    assert store.backlog()[EventStatus.PROCESSING].count == 0


# -- deferred mode: queued events, their claim by a task or the sweeper, sweepable --


def test_a_queued_event_is_recorded_once_with_no_attempt(store, make_event, clock):
    event = make_event("evt_1")

    assert store.record_queued(event) is None
    assert store.record_queued(event) is EventStatus.QUEUED

    stored = store.get("evt_1")
    assert (stored.status, stored.attempts, stored.received_at) == (
        EventStatus.QUEUED,
        0,
        clock.now,
    )
    assert stored.payload == bytes(event.raw)
    assert stored.last_error is None and stored.processed_at is None
    assert [row.id for row in store.list(status=EventStatus.QUEUED)] == ["evt_1"]


def test_record_queued_says_what_an_earlier_delivery_left(store, make_event):
    done, failed = make_event("evt_done"), make_event("evt_failed")
    claim = store.claim(done, lease=LEASE)
    store.complete("evt_done", claim.token, status=EventStatus.PROCESSED)
    store.fail("evt_failed", store.claim(failed, lease=LEASE).token, error="boom")
    store.claim(make_event("evt_held"), lease=LEASE)

    assert store.record_queued(done) is EventStatus.PROCESSED
    assert store.record_queued(failed) is EventStatus.FAILED
    assert store.record_queued(make_event("evt_held")) is EventStatus.PROCESSING
    assert store.get("evt_done").status is EventStatus.PROCESSED  # nothing changed


def test_a_task_takes_a_queued_event_once(store, make_event):
    store.record_queued(make_event("evt_1"))

    claim, stored = store.claim_for_replay("evt_1", lease=LEASE)

    assert (claim.outcome, claim.attempts) == (RETRY, 1)
    assert stored.status is EventStatus.PROCESSING
    # The same task delivered again while the first runs, then after it finished.
    assert store.claim_for_replay("evt_1", lease=LEASE)[0] == Claim(IN_FLIGHT)
    assert store.complete("evt_1", claim.token, status=EventStatus.PROCESSED)
    assert store.claim_for_replay("evt_1", lease=LEASE)[0] == Claim(DUPLICATE)
    assert store.get("evt_1").attempts == 1


def test_a_redelivery_to_an_inline_route_takes_a_queued_event(store, make_event):
    event = make_event("evt_1")
    store.record_queued(event)

    claim = store.claim(event, lease=LEASE)

    assert (claim.outcome, claim.attempts) == (RETRY, 1)
    assert store.claim_for_replay("evt_1", lease=LEASE)[0] == Claim(IN_FLIGHT)


def test_a_failed_queued_event_keeps_its_error_and_is_taken_again(store, make_event):
    store.record_queued(make_event("evt_1"))
    first, _ = store.claim_for_replay("evt_1", lease=LEASE)
    assert store.fail("evt_1", first.token, error="boom")
    assert [row.id for row in store.list(status=EventStatus.FAILED)] == ["evt_1"]

    second, stored = store.claim_for_replay("evt_1", lease=LEASE)

    assert (second.outcome, second.attempts) == (RETRY, 2)
    assert stored.last_error == "boom"


def test_max_attempts_is_the_budget_of_a_claim(store, make_event, clock):
    store.record_queued(make_event("evt_1"))
    for attempt in (1, 2):
        claim, _ = store.claim_for_replay("evt_1", lease=LEASE, max_attempts=2)
        assert (claim.outcome, claim.attempts) == (RETRY, attempt)
        store.fail("evt_1", claim.token, error=f"boom {attempt}")

    assert store.claim_for_replay("evt_1", lease=LEASE, max_attempts=2)[0] == Claim(DUPLICATE)
    assert store.get("evt_1").status is EventStatus.FAILED
    # A person's replay has no budget.
    claim, _ = store.claim_for_replay("evt_1", lease=LEASE)
    assert (claim.outcome, claim.attempts) == (RETRY, 3)
    # Nor does a worker past its lease escape it: in flight, left to a person.
    clock.advance(LEASE)
    assert store.claim_for_replay("evt_1", lease=LEASE, max_attempts=3)[0] == Claim(IN_FLIGHT)
    assert store.get("evt_1").attempts == 3


def test_sweepable_selects_what_was_left(store, make_event, clock):
    store.record_queued(make_event("evt_old_queued"))
    clock.advance(1)
    store.claim(make_event("evt_stuck"), lease=LEASE)  # its worker never finishes
    clock.advance(1)
    failed = store.claim(make_event("evt_failed"), lease=LEASE)
    store.fail("evt_failed", failed.token, error="boom")
    spent = store.claim(make_event("evt_spent"), lease=LEASE)
    store.fail("evt_spent", spent.token, error="boom")
    for _ in range(2):
        again, _ = store.claim_for_replay("evt_spent", lease=LEASE)
        store.fail("evt_spent", again.token, error="boom")
    done = store.claim(make_event("evt_done"), lease=LEASE)
    store.complete("evt_done", done.token, status=EventStatus.PROCESSED)
    store.record_ignored(make_event("evt_ignored"), reason="livemode")
    clock.advance(GRACE)
    store.record_queued(make_event("evt_new_queued"))  # its task has time yet
    clock.advance(GRACE - 1)

    due = store.sweepable(grace=GRACE, max_attempts=3)

    assert due == ["evt_old_queued", "evt_stuck", "evt_failed"]  # oldest received first
    assert store.sweepable(grace=GRACE, max_attempts=3, limit=2) == due[:2]
    assert store.sweepable(grace=GRACE, max_attempts=1) == ["evt_old_queued"]
    clock.advance(1)
    assert store.sweepable(grace=GRACE, max_attempts=3)[-1] == "evt_new_queued"
    assert "evt_spent" in store.sweepable(grace=0, max_attempts=4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grace": -1, "max_attempts": 3}, "grace"),
        ({"grace": 0, "max_attempts": 0}, "max_attempts"),
        ({"grace": 0, "max_attempts": 3, "limit": 0}, "limit"),
    ],
)
def test_sweepable_refuses_bad_bounds(store, options, message):
    with pytest.raises(ValueError, match=message):
        store.sweepable(**options)


def test_racing_tasks_and_sweepers_take_a_queued_event_once(make_store, make_event):
    store = make_store(engine_options={"pool_size": 8, "max_overflow": 0})
    events = [make_event(f"evt_race_{n}") for n in range(5)]
    for event in events:
        store.record_queued(event)

    rounds = race(
        store,
        lambda store, n: store.claim_for_replay(events[n].id, lease=LEASE, max_attempts=3)[0],
        len(events),
    )

    for claims in rounds:
        outcomes = [claim.outcome for claim in claims]
        assert outcomes.count(RETRY) == 1, outcomes
        assert set(outcomes) == {RETRY, IN_FLIGHT}
