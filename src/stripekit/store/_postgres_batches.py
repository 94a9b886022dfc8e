"""Group commit of the PostgreSQL event store's completions, from async callers.

A delivery is answered only after its completion (``complete()`` or ``fail()``)
has committed, and that commit waits for PostgreSQL's WAL flush. Under load an
async worker has many deliveries finishing at about the same moment: the
completions queued during two turns of its event loop run together in one
transaction, on one pooled connection, with one synchronous commit::

    call(complete, ...) ─▶ this loop's queue ─▶ two turns on: a worker thread runs
        BEGIN; UPDATE (each completion); COMMIT ─▶ then every caller is answered

Several batches may run at once (each on a thread of the loop's default
executor, as the store's other calls): a batch never waits for another's
commit, so one slow commit holds up only its own deliveries. One transaction,
one pool checkout and one commit per batch instead of per event: the worker
does less per delivery, PostgreSQL flushes its WAL less often.

Nothing is answered before its batch has committed (the WAL flushed up to it).
When any write of a batch, or the commit, fails, the batch is rolled back and
each write runs again in a transaction of its own, so every caller gets its own
result or error, exactly as if it had run alone (``run_batch``). A completion
whose claim was lost (another delivery took the event over) changes no row and
answers False, whatever the others in its batch do.

Claims are not batched: a claim may wait on another session's row lock (the same
event delivered to two workers at once), and would hold up every completion
batched with it; its commit does not wait for the disk anyway (see ``claim``).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from stripekit.webhooks._store import StoreCall

from ._sql_batch import NextTurnBatches, Waiting, run_batch, settle

__all__ = ["PostgresBatches"]


class PostgresBatches:
    """Writes from async callers, as many per transaction as are waiting, on pooled
    connections, several batches at once.

    Args:
        engine: the store's engine (a PostgreSQL one).
        errors: the store's context manager that turns driver errors into
            EventStoreError.
    """

    def __init__(self, engine: Engine, errors: Callable[[], AbstractContextManager[None]]) -> None:
        self._engine = engine
        self._errors = errors
        self._local = threading.local()
        self._turns = NextTurnBatches(self._take)

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> StoreCall[Any]:
        """The future of ``fn(*args, **kwargs)`` in the next batch, resolved once that
        batch has committed (see ``NextTurnBatches.call``).

        ``fn`` must write through ``batch_connection()`` when it has one.
        """
        return self._turns.call(fn, *args, **kwargs)

    def batch_connection(self) -> Connection | None:
        """Inside a batch (this thread runs one): its connection; else None."""
        conn: Connection | None = getattr(self._local, "conn", None)
        return conn

    def _take(self, loop: asyncio.AbstractEventLoop, batch: list[Waiting]) -> bool:
        writes = [write for write, _ in batch]
        run = loop.run_in_executor(None, run_batch, self._transaction, writes)
        run.add_done_callback(functools.partial(_answer, batch))
        return True

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._errors(), self._engine.begin() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None


def _answer(batch: list[Waiting], run: asyncio.Future[list[tuple[bool, Any]]]) -> None:
    if not run.cancelled() and run.exception() is None:
        settle(batch, run.result())
        return
    # Not an Exception (run_batch answers those with each write's own result): the
    # batch's fate is unknown, and no caller may answer 2xx on it (a 503: Stripe retries).
    error = RuntimeError("the event store's batch was interrupted before it answered")
    settle(batch, [(False, error)] * len(batch))
