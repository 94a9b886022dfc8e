"""The memory and SQL stores give the same answers to any sequence of calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from stripekit import EventStatus, MemoryEventStore, SQLEventStore, parse_event

IDS = st.sampled_from(["evt_a", "evt_b", "evt_c"])
TOKENS = st.sampled_from(["latest", "previous", "bogus"])


def event(event_id):
    body = {"id": event_id, "object": "event", "type": "invoice.paid", "created": 1}
    return parse_event(json.dumps({**body, "data": {"object": {}}}).encode())


class Clock:
    def __init__(self):
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self):
        return self.now


class StoresAgree(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.clock = Clock()
        self.stores = [
            MemoryEventStore(clock=self.clock),
            SQLEventStore("sqlite://", clock=self.clock),
        ]
        # per store, per event: the tokens it handed out, oldest first
        self.tokens = [{}, {}]

    def teardown(self):
        self.stores[1].close()

    def _token(self, index, event_id, which):
        handed = self.tokens[index].get(event_id, [])
        if which == "latest" and handed:
            return handed[-1]
        if which == "previous" and len(handed) > 1:
            return handed[-2]
        return "f" * 32

    def _remember(self, results, event_id):
        for index, claim in enumerate(results):
            if claim.token:
                self.tokens[index].setdefault(event_id, []).append(claim.token)

    @rule(event_id=IDS, lease=st.sampled_from([5, 30]))
    def claim(self, event_id, lease):
        results = [store.claim(event(event_id), lease=lease) for store in self.stores]
        assert [(r.outcome, r.attempts) for r in results] == [
            (results[0].outcome, results[0].attempts)
        ] * 2
        self._remember(results, event_id)

    @rule(event_id=IDS, lease=st.sampled_from([5, 30]), force=st.booleans())
    def replay(self, event_id, lease, force):
        results = [s.claim_for_replay(event_id, lease=lease, force=force) for s in self.stores]
        (first, first_row), (second, second_row) = results
        assert (first.outcome, first.attempts, first_row) == (
            second.outcome,
            second.attempts,
            second_row,
        )
        self._remember([first, second], event_id)

    @rule(event_id=IDS, which=TOKENS, status=st.sampled_from(["processed", "unhandled"]))
    def complete(self, event_id, which, status):
        results = [
            store.complete(event_id, self._token(i, event_id, which), status=EventStatus(status))
            for i, store in enumerate(self.stores)
        ]
        assert results[0] == results[1]

    @rule(event_id=IDS, which=TOKENS, error=st.text(max_size=20))
    def fail(self, event_id, which, error):
        results = [
            store.fail(event_id, self._token(i, event_id, which), error=error)
            for i, store in enumerate(self.stores)
        ]
        assert results[0] == results[1]

    @rule(event_id=IDS)
    def record_ignored(self, event_id):
        results = [store.record_ignored(event(event_id), reason="test") for store in self.stores]
        assert results[0] == results[1]

    @rule(seconds=st.sampled_from([1, 5, 29, 30]))
    def advance(self, seconds):
        self.clock.now += timedelta(seconds=seconds)

    @invariant()
    def same_rows(self):
        memory, sql = (store.list() for store in self.stores)
        assert memory == sql


def test_memory_and_sql_stores_agree():
    run_state_machine_as_test(
        StoresAgree, settings=settings(max_examples=60, stateful_step_count=25, deadline=None)
    )
