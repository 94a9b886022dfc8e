"""The deadline on an async delivery's store calls (one timer per loop, not one per call).

The end-to-end case (SQLite's write lock held by another process past the
deadline: 503, then the late claim let go) is in tests/core/store/test_sqlite_batches.py;
here each part on its own: the watch, the store's late result, the dispatcher.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from stripekit import MemoryEventStore, WebhookRegistry
from stripekit._errors import EventStoreError
from stripekit.store._sql_batch import settle
from stripekit.webhooks._deadline import Deadlines
from stripekit.webhooks._dispatch import Dispatcher
from stripekit.webhooks._store import Claim, ClaimOutcome, StoreCall


def _expired_into(found: list[tuple[Any, Any]]) -> Deadlines:
    def expire(call: StoreCall[Any], about: Any) -> None:
        found.append((call, about))
        call.set_exception(TimeoutError(about))

    return Deadlines(expire)


async def test_a_call_still_waiting_at_its_deadline_is_expired_soon_after() -> None:
    found: list[tuple[Any, Any]] = []
    deadlines = _expired_into(found)
    call: StoreCall[int] = StoreCall(loop=asyncio.get_running_loop())
    started = time.monotonic()
    deadlines.watch(call, 0.2, "evt_1")
    with pytest.raises(TimeoutError, match="evt_1"):
        await asyncio.wait_for(call, 2)  # bounded: a watch that never expired would hang
    waited = time.monotonic() - started
    # Not before its deadline; after it by a look's interval (a twentieth of it), which
    # a busy machine may stretch: the bound only tells "soon" from "never".
    assert 0.2 <= waited < 1.2
    assert found == [(call, "evt_1")]


async def test_calls_answered_in_time_are_never_expired_and_not_kept() -> None:
    found: list[tuple[Any, Any]] = []
    deadlines = _expired_into(found)
    loop = asyncio.get_running_loop()
    calls = [StoreCall[int](loop=loop) for _ in range(50)]
    for number, call in enumerate(calls):
        deadlines.watch(call, 0.1, number)
        loop.call_soon(call.set_result, number)
    assert [await call for call in calls] == list(range(50))
    for call in calls:
        deadlines.unwatch(call)
    # Their results are not kept by the watch until its next look: nothing is.
    assert deadlines._waiting[loop] == {}
    await asyncio.sleep(0.25)  # past every deadline: none of them expires
    assert found == []
    assert loop not in deadlines._waiting  # the timer stopped with nothing to watch


async def test_a_call_watched_again_after_the_timer_stopped_is_still_watched() -> None:
    found: list[tuple[Any, Any]] = []
    deadlines = _expired_into(found)
    loop = asyncio.get_running_loop()
    first: StoreCall[int] = StoreCall(loop=loop)
    deadlines.watch(first, 0.05, 1)
    first.set_result(1)
    deadlines.unwatch(first)
    await asyncio.sleep(0.1)  # the timer looked, found nothing, stopped
    second: StoreCall[int] = StoreCall(loop=loop)
    deadlines.watch(second, 0.05, 2)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(second, 1)
    assert found == [(second, 2)]


def test_the_entries_of_a_closed_loop_are_dropped_when_another_loop_starts() -> None:
    """asyncio.run() per call (a sync app's async_to_sync) closes each loop before its
    timer fires: what was watched on it must not stay with the dispatcher for ever."""
    deadlines = _expired_into([])
    loops: list[asyncio.AbstractEventLoop] = []

    async def one_call() -> None:
        loop = asyncio.get_running_loop()
        loops.append(loop)
        call: StoreCall[int] = StoreCall(loop=loop)
        deadlines.watch(call, 30, None)
        call.set_result(1)
        await call
        deadlines.unwatch(call)

    for _ in range(5):
        asyncio.run(one_call())
    assert list(deadlines._waiting) == [loops[-1]]


def test_a_late_result_goes_to_the_caller_that_gave_up_and_a_failure_does_not() -> None:
    async def main() -> tuple[list[Any], StoreCall[Any], StoreCall[Any]]:
        loop = asyncio.get_running_loop()
        late: list[Any] = []
        given_up: StoreCall[Any] = StoreCall(loop=loop)
        given_up.late = late.append
        given_up.set_exception(EventStoreError("too late"))
        failed: StoreCall[Any] = StoreCall(loop=loop)
        failed.late = late.append
        failed.set_exception(EventStoreError("too late"))
        waiting: StoreCall[Any] = StoreCall(loop=loop)
        batch = [(lambda: None, given_up), (lambda: None, failed), (lambda: None, waiting)]
        settle(batch, [(True, "claimed"), (False, RuntimeError("disk")), (True, "done")])
        return late, given_up, waiting

    late, given_up, waiting = asyncio.run(main())
    assert late == ["claimed"]  # the failed write has nothing to let go
    assert isinstance(given_up.exception(), EventStoreError)  # the caller's answer stands
    assert waiting.result() == "done"


def test_a_late_handler_that_raises_does_not_keep_the_batch_from_answering(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> StoreCall[Any]:
        loop = asyncio.get_running_loop()
        given_up: StoreCall[Any] = StoreCall(loop=loop)
        given_up.late = lambda value: 1 / 0
        given_up.set_exception(EventStoreError("too late"))
        given_up.exception()
        waiting: StoreCall[Any] = StoreCall(loop=loop)
        settle([(lambda: None, given_up), (lambda: None, waiting)], [(True, 1), (True, 2)])
        return waiting

    assert asyncio.run(main()).result() == 2
    assert "late result over failed" in caplog.text


class _HangingStore(MemoryEventStore):
    """A store whose async calls answer only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[StoreCall[Any]] = []
        self.released: list[tuple[str, str]] = []

    def call_async(self, method: Any, *args: Any, **kwargs: Any) -> StoreCall[Any]:
        call: StoreCall[Any] = StoreCall(loop=asyncio.get_running_loop())
        self.calls.append(call)
        return call

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        self.released.append((event_id, error))
        return True


async def test_the_dispatcher_answers_at_its_deadline_and_lets_the_late_claim_go() -> None:
    store = _HangingStore()
    dispatcher = Dispatcher(store, WebhookRegistry())
    dispatcher.store_deadline = 0.1
    with pytest.raises(EventStoreError, match=r"did not answer within 0\.1 s"):
        await dispatcher.call_store(store.claim, "evt_late")
    (call,) = store.calls
    assert call.late is not None
    # The write commits after all: the store hands its claim over, which is let go.
    call.late(Claim(ClaimOutcome.NEW, "tok", 1))
    for _ in range(100):
        if store.released:
            break
        await asyncio.sleep(0.01)
    assert store.released == [
        ("evt_late", "released: the event store answered after 0.1 s, too late")
    ]


async def test_a_caller_cancelled_while_waiting_leaves_the_watch() -> None:
    store = _HangingStore()
    dispatcher = Dispatcher(store, WebhookRegistry())
    dispatcher.store_deadline = 30
    waiting = asyncio.ensure_future(dispatcher.call_store(store.claim, "evt_gone"))
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    assert len(dispatcher._deadlines._waiting[loop]) == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert dispatcher._deadlines._waiting[loop] == {}
