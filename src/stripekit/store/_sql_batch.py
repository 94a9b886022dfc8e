"""Group commit for the SQLite event store's async callers.

SQLite has one writer at a time, and most of a small write's cost is its commit.
Under load an async web app has many deliveries waiting to be claimed or
completed at once, so the writes queued during two turns of the event loop run
together, in one transaction with one commit::

    call() ─▶ this loop's queue ─▶ two turns on: BEGIN IMMEDIATE; write; write; ...; COMMIT
                                  └ would wait? ─▶ the writer thread runs the batch instead

A batch runs on the loop itself only when it cannot wait: the store's write lock
is free and SQLite grants its own at once (``BEGIN IMMEDIATE`` with no busy
timeout). A WAL commit with ``synchronous=NORMAL`` is a write to the WAL file
without an fsync, cheaper than handing the batch to a thread and back (every
hand-over is a trip through the GIL). When another thread or process holds the
lock, or a slow setting is on, the batch goes to the writer thread, which waits
as long as the store's busy timeout allows; slow work the store asks for
(checkpoints) goes there too.

When it is this process's writer thread that holds the lock (it runs a batch
that could not start at once, or a checkpoint), the loop's batch waits on the
loop for it instead, a fraction of a millisecond at a time, gathering the writes
that arrive meanwhile, for up to ``HOLD_LIMIT`` seconds before it queues behind
it. Queued behind it, every later batch would find the lock taken too, and the
loop would never write again: measured in the in-process driver, a single batch
sent to the thread (one ``BEGIN IMMEDIATE`` that met a checkpoint) sent all the
following 750 there as well, each a trip through the GIL and a wake-up of the
loop from another thread.

Nothing is answered before its batch has committed. When any write of a batch
(or the commit) fails, the batch is rolled back and each write runs again in a
transaction of its own, so every caller gets its own result or error, exactly
as if it had run alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from stripekit.webhooks._store import StoreCall

__all__ = [
    "HOLD_LIMIT",
    "HOLD_RETRY",
    "MAX_BATCH",
    "BatchWriter",
    "Waiting",
    "WouldBlock",
    "run_batch",
    "settle",
]

logger = logging.getLogger("stripekit.store")

MAX_BATCH = 256
"""Writes per transaction at most: a bound on how long one batch keeps the rest waiting."""

HOLD_LIMIT = 0.005
"""How long (seconds) a loop's batch waits for this process's writer thread to let go
of the lock before it is queued on that thread instead."""

HOLD_RETRY = 0.0002
"""How often (seconds) a waiting batch tries again: not every turn of the loop, which
would spin it, and take the GIL from the very thread it waits for."""

_STOP = object()

_Write = Callable[[], Any]
Waiting = tuple[_Write, "asyncio.Future[Any]"]
"""A queued write and the future its caller awaits."""


class WouldBlock(Exception):
    """Raised by ``at_once`` when the transaction cannot start without waiting.

    ``own``: it is this process's writer that holds the lock (not another process).
    """

    def __init__(self, reason: str, *, own: bool = False) -> None:
        super().__init__(reason)
        self.own = own


class NextTurnBatches:
    """Gathers an event loop's calls into batches of at most MAX_BATCH, handed to
    ``take`` after this turn of the loop and the next: the deliveries a batch wakes
    up (claims answered, handlers run) queue their next write a turn later, and
    waiting for them saves a commit in three. ``take`` runs on the loop; each caller
    awaits its own future, which the batch's runner resolves. When ``take`` answers
    False (not now), that batch and the rest wait ``HOLD_RETRY`` seconds, and the
    calls made meanwhile join them, in order."""

    def __init__(self, take: Callable[[asyncio.AbstractEventLoop, list[Waiting]], bool]) -> None:
        self._take = take
        self._waiting: dict[asyncio.AbstractEventLoop, list[Waiting]] = {}

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> StoreCall[Any]:
        """Queue ``fn(*args, **kwargs)`` for the next batch: the future of its result.

        A future, not a coroutine: a caller whose deadline passes sets its error on
        it, and gets the write's own result through ``StoreCall.late`` once the batch
        has run. Call it on the running loop."""
        loop = asyncio.get_running_loop()
        future: StoreCall[Any] = StoreCall(loop=loop)
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = []
            loop.call_soon(loop.call_soon, self._flush, loop)
        waiting.append((functools.partial(fn, *args, **kwargs), future))
        return future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._waiting.pop(loop, [])
        for start in range(0, len(waiting), MAX_BATCH):
            if not self._take(loop, waiting[start : start + MAX_BATCH]):
                # Nothing can have joined since the pop (no caller runs during a flush).
                self._waiting[loop] = waiting[start:]
                loop.call_later(HOLD_RETRY, self._flush, loop)
                return


class BatchWriter:
    """Runs writes from async code, as many per transaction as are waiting.

    Args:
        together: opens one transaction, waiting for locks as long as it must;
            every write called inside it must use that transaction (the store
            arranges it). A batch's fallback opens one per write.
        at_once: opens one transaction the same way, or raises WouldBlock at
            once; None runs every batch on the writer thread.
        name: the writer thread's name.
    """

    def __init__(
        self,
        together: Callable[[], AbstractContextManager[object]],
        at_once: Callable[[], AbstractContextManager[object]] | None = None,
        *,
        name: str = "stripekit-store-writer",
    ) -> None:
        self._together = together
        self._at_once = at_once
        self._name = name
        self._turns = NextTurnBatches(self._take)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._start_lock = threading.Lock()
        self._held_since: dict[asyncio.AbstractEventLoop, float] = {}

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> StoreCall[Any]:
        """The future of ``fn(*args, **kwargs)`` in the next batch, resolved once that
        batch has committed (see ``NextTurnBatches.call``)."""
        return self._turns.call(fn, *args, **kwargs)

    def in_thread(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the writer thread, after what is queued there; errors are dropped."""
        self._ensure_thread()
        self._queue.put((None, fn))

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued on the writer thread, then stop it (it restarts on use)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            if thread is not None and thread.is_alive():
                self._queue.put(_STOP)
                thread.join(timeout)

    # -- on the event loop -----------------------------------------------------------------

    def _take(self, loop: asyncio.AbstractEventLoop, batch: list[Waiting]) -> bool:
        """Run ``batch`` on the loop, or queue it on the writer thread; False: hold it
        (this process's writer thread has the lock, and not for ``HOLD_LIMIT`` yet)."""
        if self._at_once is not None:
            # If it cannot start at once, or a write fails and all are rolled
            # back, the thread runs the batch again (each alone if it fails again).
            results: list[tuple[bool, Any]] | None = None
            try:
                with self._at_once():
                    results = [(True, write()) for write, _ in batch]
            except WouldBlock as exc:
                if exc.own and self._hold(loop):
                    return False
            except Exception:
                results = None  # rolled back as a whole: the thread sorts it out
            if results is not None:
                self._held_since.pop(loop, None)
                _resolve(_pair(batch, results))
                return True
        self._held_since.pop(loop, None)
        self._ensure_thread()
        self._queue.put((loop, batch, self._together))
        return True

    def _hold(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether the loop's batch may go on waiting for the writer thread."""
        now = loop.time()
        since = self._held_since.setdefault(loop, now)
        return now - since < HOLD_LIMIT

    # -- on the writer thread --------------------------------------------------------------

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid != os.getpid():
                # A forked child has the parent's queue but not its thread.
                self._queue = queue.SimpleQueue()
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                # The thread holds the queue only, never this writer: a store dropped
                # without close() is collected (its finalizers close its connections),
                # and this finalizer stops the thread then.
                self._thread = threading.Thread(
                    target=_serve, args=(self._queue,), name=self._name, daemon=True
                )
                self._thread.start()
                weakref.finalize(self, self._queue.put, _STOP).atexit = False


def _serve(work: queue.SimpleQueue[Any]) -> None:
    """The writer thread: runs what is queued until told to stop. Each item is run in a
    call of its own, and dropped before the next wait: a batch's writes hold the store,
    which nothing here may keep alive between batches."""
    while True:
        item = work.get()
        if item is _STOP:
            return
        _run_one(item)
        del item


def _run_one(item: tuple[Any, ...]) -> None:
    """A function (``in_thread``), or a batch with the transaction to run it in."""
    if item[0] is None:
        with contextlib.suppress(Exception):
            item[1]()
        return
    loop, batch, together = item
    results = run_batch(together, [write for write, _ in batch])
    with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
        loop.call_soon_threadsafe(_resolve, _pair(batch, results))


def run_batch(
    together: Callable[[], AbstractContextManager[object]], writes: list[_Write]
) -> list[tuple[bool, Any]]:
    """Every write in one transaction; if any fails, each again alone.

    Returns (True, result) or (False, exception) per write, in order.
    """
    try:
        with together():
            return [(True, write()) for write in writes]
    except Exception as exc:
        if len(writes) == 1:
            return [(False, exc)]
    # Rolled back as a whole: each write again alone, so that only the guilty one fails.
    return [_alone(together, write) for write in writes]


def _alone(
    together: Callable[[], AbstractContextManager[object]], write: _Write
) -> tuple[bool, Any]:
    try:
        with together():
            return True, write()
    except Exception as exc:
        return False, exc


def _pair(
    batch: list[Waiting], results: list[tuple[bool, Any]]
) -> list[tuple[asyncio.Future[Any], tuple[bool, Any]]]:
    return [(future, result) for (_, future), result in zip(batch, results, strict=True)]


def settle(batch: list[Waiting], results: list[tuple[bool, Any]]) -> None:
    """Answer each caller of a batch with its write's result or error (on its loop)."""
    _resolve(_pair(batch, results))


def _resolve(settled: list[tuple[asyncio.Future[Any], tuple[bool, Any]]]) -> None:
    for future, (ok, value) in settled:
        if future.done():
            # Its caller was cancelled, or gave up at its deadline; the write stands,
            # and a caller that gave up may still want its result (a claim to let go).
            late = getattr(future, "late", None)
            if late is not None and ok:
                try:
                    late(value)
                except Exception:  # the batch's other callers are answered all the same
                    logger.exception("handing a store call's late result over failed")
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
