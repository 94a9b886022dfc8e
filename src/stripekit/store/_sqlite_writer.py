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

A passive checkpoint never waits, so under sustained writes it never catches up
and the WAL only grows (a gigabyte after hours at 200 events/s). When the WAL
passes ``WAL_LIMIT_BYTES``, the next checkpoint is a TRUNCATE one, run while
this process's writes wait on the write lock: it copies everything, waits for
readers for up to ``TRUNCATE_WAIT_MS``, and empties the file; when readers
were in the way, it tries again ten times as often until it succeeds. A clean
``close()`` truncates it too. The WAL thus stays under ``WAL_BOUND_BYTES``.

A connection that SQLite opened read-only (the file was not writable then) or
that lost its file stays that way: after such an error every connection is
dropped, and the next write opens new ones.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Engine

from ._sql_batch import BatchWriter, WouldBlock
from ._sql_direct import driver_connection
from ._sql_engine import REOPEN_CODES, SQLITE_BUSY_TIMEOUT_MS, sqlite_code, sqlite_synchronous

__all__ = ["CHECKPOINT_EVERY", "WAL_BOUND_BYTES", "WAL_LIMIT_BYTES", "SQLiteWriter"]

logger = logging.getLogger("stripekit.store")

CHECKPOINT_EVERY = 1_000
"""Writes between two checkpoints (about as often as SQLite's own 1,000-page default)."""

WAL_LIMIT_BYTES = 32 * 1024 * 1024
"""A WAL larger than this at a checkpoint is truncated (all of it copied, then emptied)."""

TRUNCATE_WAIT_MS = 1_000
"""How long a truncating checkpoint waits for readers before it gives up until the next."""

WAL_BOUND_BYTES = 64 * 1024 * 1024
"""What the WAL stays under: the limit, plus what ``CHECKPOINT_EVERY`` writes add before
the next check (a few kilobytes each), with room to spare. Documented in docs/store.md."""

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _Held:
    """The writer's connection, kept apart from the writer: what its finalizer closes
    (a finalizer that held the writer would keep it, and its store, alive)."""

    __slots__ = ("conn",)

    def __init__(self) -> None:
        self.conn: Connection | None = None


def _let_go(held: _Held) -> None:
    """A writer collected without ``close()``: its connection's database closed at once
    (invalidated: not checked in to a pool that may be gone with the store too). Python
    3.13 warns of a sqlite3 connection collected open, an error under ``-W error``."""
    conn, held.conn = held.conn, None
    if conn is not None and not conn.closed:
        with contextlib.suppress(Exception):
            conn.invalidate()


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
        self._held = _Held()
        weakref.finalize(self, _let_go, self._held).atexit = False
        self._local = threading.local()
        self._writes = 0
        self._over_limit = False
        # An in-memory database is one connection: nothing to checkpoint, nowhere else to do it.
        self._file = engine.url.database not in (None, "", ":memory:")
        # With synchronous=FULL every commit syncs to disk: never on the event loop.
        inline = sqlite_synchronous() == "NORMAL"
        self.batch = BatchWriter(
            functools.partial(self._batch_transaction, at_once=False),
            functools.partial(self._batch_transaction, at_once=True) if inline else None,
        )

    @property
    def has_file(self) -> bool:
        """Whether the database is a file (not in memory): other connections may read it."""
        return self._file

    @property
    def _conn(self) -> Connection | None:
        return self._held.conn

    @_conn.setter
    def _conn(self, conn: Connection | None) -> None:
        self._held.conn = conn

    def batch_connection(self) -> Connection | None:
        """Inside a batch (this thread runs one): its connection, counting one more write.

        The hot writes' shortcut past ``transaction()``: no context manager to enter.
        """
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            self._writes += 1
        return conn

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
        """Copy the WAL into the database file without waiting for anyone (PASSIVE);
        truncate it instead when it has grown past ``WAL_LIMIT_BYTES``."""
        try:
            with self._engine.connect() as conn:
                driver_connection(conn).execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:
            # The writes are committed in the WAL; the next checkpoint tries again.
            logger.warning("event store checkpoint failed: %s", exc)
        if self.wal_size() > WAL_LIMIT_BYTES:
            with self._lock:
                self._truncate_wal()
        self._over_limit = self.wal_size() > WAL_LIMIT_BYTES

    def wal_size(self) -> int:
        """The WAL file's size in bytes (0 when there is none)."""
        try:
            return os.path.getsize(f"{self._engine.url.database}-wal")
        except OSError:
            return 0

    def reset(self) -> None:
        """Drop every connection (this one and the pool's): the next write opens new ones."""
        with self._lock:
            self._drop()

    def close(self) -> None:
        """Finish queued writes, stop the writer thread, empty the WAL and close."""
        self.batch.close()
        with self._lock:
            if self._file and self._conn is not None and not self._conn.closed:
                self._truncate_wal()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _truncate_wal(self) -> None:
        """Checkpoint all of the WAL and empty it; the caller holds the write lock."""
        if not self._file:
            return
        try:
            conn = self._conn if self._conn is not None and not self._conn.closed else None
            with contextlib.ExitStack() as stack:
                if conn is None:
                    conn = stack.enter_context(self._engine.connect())
                driver = driver_connection(conn)
                # This process's writes wait meanwhile: wait for readers briefly, and
                # try again at the next checkpoint rather than stall deliveries.
                driver.execute(f"PRAGMA busy_timeout = {TRUNCATE_WAIT_MS}")
                try:
                    busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if busy:
                logger.warning(
                    "the event store's WAL (%d bytes) could not be emptied: readers kept it "
                    "busy for over %d ms; the next checkpoint tries again",
                    self.wal_size(),
                    TRUNCATE_WAIT_MS,
                )
        except Exception as exc:
            logger.warning("event store checkpoint failed: %s", exc)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self._engine.dispose()

    @contextmanager
    def _batch_transaction(self, *, at_once: bool) -> Iterator[None]:
        """One transaction for a batch; ``at_once``: on the loop, so WouldBlock, never wait."""
        if not self._lock.acquire(blocking=not at_once):
            raise WouldBlock("another thread is writing", own=True)
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
                    driver = driver_connection(conn)
                    driver.execute("PRAGMA wal_autocheckpoint = 0")
                    # After a checkpoint has emptied it, the WAL file shrinks back to this.
                    driver.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
            try:
                with conn.begin():
                    if at_once:
                        _begin_immediate(conn)
                    yield conn
            except BaseException as exc:
                # A broken connection is not kept for the next write, nor one that
                # SQLite opened read-only or whose file went away.
                if conn.invalidated or sqlite_code(exc) in REOPEN_CODES:
                    self._drop()
                raise

    def _checkpoint_due(self) -> bool:
        # Once the WAL is over its limit (a truncation found readers in the way), try
        # ten times as often: the WAL overshoots by a tenth as much per failed attempt.
        every = CHECKPOINT_EVERY // 10 if self._over_limit else CHECKPOINT_EVERY
        if not self._file or self._writes < every:
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
