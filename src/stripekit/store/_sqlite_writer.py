"""The one connection a SQLite event store writes through, and who may use it when.

SQLite has one writer at a time. Threads of this process queue on a lock instead
of spinning in SQLite's busy handler (whose sleeps grow to 100 ms); other
processes still wait through ``busy_timeout``. Async callers' writes go in
batches (see :mod:`._sql_batch`), on the event loop when that cannot wait.

SQLite checkpoints the WAL into the database file in whichever commit crosses
its threshold, and a checkpoint syncs to disk (milliseconds). So this connection
does not checkpoint itself: every ``CHECKPOINT_EVERY`` writes, a passive
checkpoint runs on another connection, in the writer thread when the writes ran
on an event loop.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Engine

from ._sql_batch import BatchWriter, WouldBlock
from ._sql_direct import driver_connection
from ._sql_engine import SQLITE_BUSY_TIMEOUT_MS, sqlite_synchronous

__all__ = ["CHECKPOINT_EVERY", "SQLiteWriter"]

logger = logging.getLogger("stripekit.store")

CHECKPOINT_EVERY = 1_000
"""Writes between two checkpoints (about as often as SQLite's own 1,000-page default)."""

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SQLiteWriter:
    """Transactions on the store's single SQLite writer connection.

    Args:
        engine: the store's engine (a SQLite one).
        errors: the store's context manager that turns driver errors into
            EventStoreError.
    """

    def __init__(self, engine: Engine, errors: Callable[[], AbstractContextManager[None]]) -> None:
        self._engine = engine
        self._errors = errors
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._local = threading.local()
        self._writes = 0
        # An in-memory database is one connection: nothing to checkpoint, nowhere else to do it.
        self._file = engine.url.database not in (None, "", ":memory:")
        # With synchronous=FULL every commit syncs to disk: never on the event loop.
        inline = sqlite_synchronous() == "NORMAL"
        self.batch = BatchWriter(
            functools.partial(self._batch_transaction, at_once=False),
            functools.partial(self._batch_transaction, at_once=True) if inline else None,
        )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction on the writer connection (inside a batch: the batch's)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            self._writes += 1
            yield conn  # the batch commits, or rolls back, as a whole
            return
        with self._lock:
            with self._begin(at_once=False) as conn:
                self._writes += 1
                yield conn
            due = self._checkpoint_due()
        if due:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without waiting for anyone (PASSIVE)."""
        try:
            with self._engine.connect() as conn:
                driver_connection(conn).execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:
            # The writes are committed in the WAL; the next checkpoint tries again.
            logger.warning("event store checkpoint failed: %s", exc)

    def close(self) -> None:
        """Finish queued writes, stop the writer thread and close the connection."""
        self.batch.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _batch_transaction(self, *, at_once: bool) -> Iterator[None]:
        """One transaction for a batch; ``at_once``: on the loop, so WouldBlock, never wait."""
        if not self._lock.acquire(blocking=not at_once):
            raise WouldBlock("another thread is writing")
        try:
            with self._begin(at_once=at_once) as conn:
                self._local.conn = conn
                try:
                    yield
                finally:
                    self._local.conn = None
            due = self._checkpoint_due()
        finally:
            self._lock.release()
        if due and at_once:
            self.batch.in_thread(self.checkpoint)  # a checkpoint syncs: not on the loop
        elif due:
            self.checkpoint()

    @contextmanager
    def _begin(self, *, at_once: bool) -> Iterator[Connection]:
        with self._errors():
            conn = self._conn
            if conn is None or conn.closed:
                conn = self._conn = self._engine.connect()
                if self._file:
                    driver_connection(conn).execute("PRAGMA wal_autocheckpoint = 0")
            try:
                with conn.begin():
                    if at_once:
                        _begin_immediate(conn)
                    yield conn
            except BaseException:
                # A broken connection is not kept for the next write.
                if conn.invalidated:
                    conn.close()
                    self._conn = None
                raise

    def _checkpoint_due(self) -> bool:
        if not self._file or self._writes < CHECKPOINT_EVERY:
            return False
        self._writes = 0
        return True


def _begin_immediate(conn: Connection) -> None:
    """Take SQLite's write lock now, or raise WouldBlock instead of waiting for it."""
    driver = driver_connection(conn)
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode in _BUSY:
            raise WouldBlock("another process is writing") from exc
        raise
    finally:
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
