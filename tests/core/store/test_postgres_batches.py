"""The PostgreSQL store's async path: completions of concurrent deliveries share a commit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from stripekit import EventStatus, SQLEventStore, StripeKit, WebhookRegistry
from stripekit._errors import EventStoreError
from stripekit.testing import signed_event

pytestmark = pytest.mark.postgres

LEASE = 30.0
PROCESSED = EventStatus.PROCESSED


@pytest.fixture
def store(postgres_url: str, clock: Any) -> Iterator[SQLEventStore]:
    made = SQLEventStore(postgres_url, table_prefix=f"t{uuid.uuid4().hex[:12]}_", clock=clock)
    made.migrate()
    yield made
    made.close()


def count_commits(store: SQLEventStore) -> list[int]:
    commits: list[int] = []
    sa_event.listen(store.engine, "commit", lambda conn: commits.append(1))
    return commits


def claim_all(store: SQLEventStore, make_event: Any, count: int) -> list[str]:
    return [store.claim(make_event(f"evt_{i}"), lease=LEASE).token for i in range(count)]


async def test_concurrent_completions_share_commits_and_all_are_recorded(store, make_event):
    tokens = claim_all(store, make_event, 40)
    commits = count_commits(store)

    done = await asyncio.gather(
        *(
            store.call_async(store.complete, f"evt_{i}", token, status=PROCESSED)
            for i, token in enumerate(tokens)
        )
    )

    assert done == [True] * 40
    assert 1 <= len(commits) < 40
    assert {e.status for e in store.list(limit=100)} == {PROCESSED}


async def test_complete_and_fail_share_a_batch_each_with_its_own_outcome(store, make_event):
    first, second = claim_all(store, make_event, 2)

    done = await asyncio.gather(
        store.call_async(store.complete, "evt_0", first, status=PROCESSED),
        store.call_async(store.fail, "evt_1", second, error="boom"),
    )

    assert done == [True, True]
    assert store.get("evt_0").status is PROCESSED
    failed = store.get("evt_1")
    assert (failed.status, failed.last_error) == (EventStatus.FAILED, "boom")


async def test_a_lost_lease_answers_false_and_the_rest_of_its_batch_commits(
    store, make_event, clock
):
    tokens = claim_all(store, make_event, 3)
    clock.advance(LEASE + 1)
    # Its lease over, another delivery took evt_1 over: the first token is spent.
    retry = store.claim(make_event("evt_1"), lease=LEASE)

    done = await asyncio.gather(
        *(
            store.call_async(store.complete, f"evt_{i}", token, status=PROCESSED)
            for i, token in enumerate(tokens)
        )
    )

    assert done == [True, False, True]
    taken = store.get("evt_1")
    assert (taken.status, taken.attempts) == (EventStatus.PROCESSING, 2)
    assert await store.call_async(store.complete, "evt_1", retry.token, status=PROCESSED)


async def test_a_failing_write_fails_alone_and_the_others_commit(store, make_event):
    first, second = claim_all(store, make_event, 2)

    results = await asyncio.gather(
        store.call_async(store.complete, "evt_0", first, status=PROCESSED),
        store.call_async(store.complete, "evt_1", second, status="failed"),
        return_exceptions=True,
    )

    assert results[0] is True
    assert isinstance(results[1], ValueError)
    assert store.get("evt_0").status is PROCESSED
    assert store.get("evt_1").status is EventStatus.PROCESSING


async def test_a_batch_whose_commit_fails_answers_every_caller_and_changes_nothing(
    store, make_event
):
    tokens = claim_all(store, make_event, 5)

    def refuse(conn: Any) -> None:
        raise RuntimeError("the database refused the commit")

    sa_event.listen(store.engine, "commit", refuse)
    try:
        results = await asyncio.gather(
            *(
                store.call_async(store.complete, f"evt_{i}", token, status=PROCESSED)
                for i, token in enumerate(tokens)
            ),
            return_exceptions=True,
        )
    finally:
        sa_event.remove(store.engine, "commit", refuse)

    assert all(isinstance(r, (RuntimeError, EventStoreError)) for r in results), results
    assert {e.status for e in store.list(limit=10)} == {EventStatus.PROCESSING}
    # Nothing was half-done: every token still holds its claim.
    assert all(store.complete(f"evt_{i}", t, status=PROCESSED) for i, t in enumerate(tokens))


async def test_the_route_answers_each_delivery_after_its_batched_completion(postgres_url):
    store = SQLEventStore(postgres_url, table_prefix=f"t{uuid.uuid4().hex[:12]}_")
    seen: list[str] = []
    webhooks = WebhookRegistry()

    async def handle(event: Any) -> None:
        seen.append(event.id)

    webhooks.register("invoice.paid", handle)
    kit = StripeKit(webhook_secret="whsec_test", webhooks=webhooks, store=store, billing=False)
    try:
        deliveries = [signed_event("invoice.paid", secret="whsec_test") for _ in range(30)]
        results = await asyncio.gather(*(kit.ahandle_webhook(b, h) for b, h in deliveries))
        assert [r.status for r in results] == [200] * 30
        assert sorted(seen) == sorted(r.event_id for r in results)
        assert {e.status for e in store.list(limit=100)} == {PROCESSED}
    finally:
        await kit.aclose()
        store.close()
