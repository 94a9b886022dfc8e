"""SQLEventStore: the event store in a SQL database through SQLAlchemy Core.

SQLite by default (a file, in WAL mode); PostgreSQL for production and for
several app instances. Each step of ``claim`` is one atomic statement, so the
database, never a Python check, decides which delivery runs the handlers::

    INSERT ... ON CONFLICT (id) DO NOTHING      1 row: NEW
    SELECT status, live lease, holder           final: DUPLICATE; held by a live
                                                process: IN_FLIGHT
    UPDATE ... WHERE failed or lease ran out    1 row: RETRY
    SELECT status                               final: DUPLICATE, else IN_FLIGHT

The second step only answers early what the UPDATE would refuse anyway: a
duplicate storm's deliveries cost one read each, not three statements.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from stripekit._errors import ConfigurationError
from stripekit.webhooks._store import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    WAITING_STATUSES,
    Claim,
    ClaimOutcome,
    EventStatus,
    StatusBacklog,
    StoredEvent,
)

from ._holders import current_holder, holder_is_gone, new_token
from ._postgres_batches import PostgresBatches
from ._rows import (
    answer_without_update,
    check_lease,
    check_sweep,
    clean_error,
    event_row,
    stored_event,
)
from ._sql_batch import BatchWriter
from ._sql_direct import DirectStatement, OneRowQuery, driver_connection
from ._sql_engine import (
    REOPEN_CODES,
    database_error,
    make_engine,
    sqlite_code,
)
from ._sql_schema import (
    build_tables,
    insert_new,
    insert_or_nothing,
    like_pattern,
    migrate,
    new_row,
)
from ._sqlite_rows import ClaimInsert
from ._sqlite_writer import SQLiteWriter
from ._timeouts import StoreTimeouts

if TYPE_CHECKING:
    from stripekit.webhooks._event import Event

__all__ = ["DEFAULT_URL", "SQLEventStore"]

DEFAULT_URL = "sqlite:///stripekit.sqlite3"

logger = logging.getLogger("stripekit.store")

_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,30}")
_IN_FLIGHT = Claim(ClaimOutcome.IN_FLIGHT)
_DUPLICATE = Claim(ClaimOutcome.DUPLICATE)
_FINAL = [status.value for status in FINAL_STATUSES]
_PROCESSING = EventStatus.PROCESSING.value
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
_QUEUED = EventStatus.QUEUED.value
_WAITING = [status.value for status in WAITING_STATUSES]


class SQLEventStore:
    """An EventStore in a SQL database; its tables are created and migrated on first use.

    Args:
        url_or_engine: a SQLAlchemy URL (``sqlite:///stripekit.sqlite3``,
            ``postgresql://user:password@host/db``) or an Engine you own.
        table_prefix: the start of the store's table names.
        clock: returns the current time (timezone-aware); tests pass a fake one.
        engine_options: extra ``create_engine`` arguments (e.g. ``pool_size``).
        timeouts: how long PostgreSQL may keep a call waiting (connect, statement,
            lock); past them the call fails and the delivery is answered 503.

    Example:
        >>> store = SQLEventStore("sqlite://")
        >>> store.migrate()
        1
        >>> store.list()
        []
    """

    blocking = True

    call_async: Callable[..., Awaitable[Any]]
    """``await store.call_async(store.claim, event, lease=300)``: how async callers run a
    method (see ``EventStore``). SQLite: in the next batch of writes, one commit for all
    that wait at that moment. PostgreSQL: ``complete`` and ``fail`` in the next batch of
    completions (one commit, one WAL flush for all), the other methods in a worker
    thread, one pooled connection each. Other databases have none: async callers use a
    worker thread for every method."""

    def __init__(
        self,
        url_or_engine: str | Engine = DEFAULT_URL,
        *,
        table_prefix: str = "stripekit_",
        clock: Callable[[], datetime] | None = None,
        engine_options: Mapping[str, Any] | None = None,
        timeouts: StoreTimeouts | None = None,
    ) -> None:
        if not _PREFIX.fullmatch(table_prefix):
            raise ConfigurationError(
                f"table_prefix {table_prefix!r} is not a plain SQL name: use letters, "
                f"digits and underscores, at most 31 characters"
            )
        self.timeouts = timeouts or StoreTimeouts()
        self._engine, self._owns_engine = make_engine(
            url_or_engine, engine_options or {}, self.timeouts
        )
        if self._owns_engine:
            # A store dropped without close() still closes its pooled connections: Python
            # 3.13 warns of each sqlite3 connection collected open (an error under -W error).
            weakref.finalize(self, self._engine.dispose).atexit = False
        self._url = self._engine.url.render_as_string(hide_password=True)
        self._tables = build_tables(table_prefix)
        self._events = self._tables.events
        self._now = clock or _utcnow
        self._ready = False
        self._migrate_lock = threading.Lock()
        self._finish_statements: dict[tuple[str, ...], Update] = {}
        # SQLite's two hot writes skip SQLAlchemy's per-call bookkeeping (see DirectStatement).
        self._direct_inserts: dict[tuple[str, ...], DirectStatement] = {}
        self._claim_insert: ClaimInsert | None = None
        self._direct_finish: dict[tuple[str, ...], DirectStatement] = {}
        self._seen_query: OneRowQuery | None = None
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._postgres = self._engine.dialect.name == "postgresql"
        self._writer = SQLiteWriter(self._engine, self._errors) if self._sqlite else None
        if self._writer is not None:
            self.call_async = functools.partial(self._call_batched, self._writer.batch)
        self._pg_batches = PostgresBatches(self._engine, self._errors) if self._postgres else None
        if self._pg_batches is not None:
            self.call_async = self._call_postgres
        columns = self._events.c
        self._columns = [c for c in columns if c.name not in ("token", "lease_until", "holder")]

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        return self._engine

    def migrate(self) -> int:
        """Create or upgrade the tables; a no-op when they are current. Returns the version."""
        with self._migrate_lock:
            with self._errors(), self._engine.connect() as conn:
                version = migrate(conn, self._tables, self._now())
                conn.commit()
            self._ready = True
            return version

    def claim(self, event: Event, *, lease: float) -> Claim:
        expires = _lease(lease)
        conn = self._batch_connection()
        if conn is not None:
            return self._claim(conn, event, expires)
        with self._transaction() as conn:
            if self._postgres:
                # The claim's commit need not wait for the disk: nothing is answered on
                # it but 409s and duplicates. The delivery's 200 (or 500) follows the
                # complete()/fail() commit, which waits for the WAL up to itself, the
                # claim included; a database crash before it loses the claim, and
                # Stripe's redelivery claims the event anew, as after any crash. Half
                # the WAL flushes per event: they, not locks, are what workers queue on.
                conn.execute(_ASYNC_COMMIT)
            return self._claim(conn, event, expires)

    def _claim(self, conn: Connection, event: Event, expires: timedelta) -> Claim:
        now = self._now()
        token = new_token()
        until = now + expires
        if self._insert_claim(conn, event, now, token, until):
            return Claim(ClaimOutcome.NEW, token, 1)
        settled = self._settled(conn, event.id, now)
        if settled is not None:
            return settled
        taken = self._take_over(conn, event.id, token, until, self._retryable(now))
        if not taken:
            taken = self._take_from_the_dead(conn, event.id, token, until)
        columns = self._events.c
        query = select(columns.status, columns.attempts).where(columns.id == event.id)
        status, attempts = conn.execute(query).one()
        if taken:
            return Claim(ClaimOutcome.RETRY, token, attempts)
        return _DUPLICATE if status in _FINAL else _IN_FLIGHT

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        if status not in (EventStatus.PROCESSED, EventStatus.UNHANDLED):
            raise ValueError(f"complete() takes PROCESSED or UNHANDLED, not {status!r}")
        values = {"status": EventStatus(status).value, "processed_at": self._now()}
        return self._finish(event_id, token, values)

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        values = {"status": EventStatus.FAILED.value, "last_error": clean_error(error)}
        return self._finish(event_id, token, values)

    def record_ignored(self, event: Event, *, reason: str) -> bool:
        now = self._now()
        values = new_row(event, now)
        values.update(
            status=EventStatus.IGNORED.value,
            attempts=0,
            last_error=clean_error(reason),
            processed_at=now,
        )
        with self._transaction() as conn:
            return insert_new(conn, self._events, values)

    def record_queued(self, event: Event) -> EventStatus | None:
        values = {**event_row(event, self._now()), "status": _QUEUED, "attempts": 0}
        columns = self._events.c
        with self._transaction() as conn:
            if self._insert_new(conn, values):
                return None
            status = conn.execute(select(columns.status).where(columns.id == event.id)).scalar_one()
        return EventStatus(status)

    def claim_for_replay(
        self,
        event_id: str,
        *,
        lease: float,
        force: bool = False,
        max_attempts: int | None = None,
    ) -> tuple[Claim, StoredEvent | None]:
        expires = _lease(lease)
        now = self._now()
        columns = self._events.c
        condition = self._retryable(now)
        if force:
            condition = or_(condition, columns.status.in_(_FINAL))
        budget = None if max_attempts is None else columns.attempts < max_attempts
        if budget is not None:
            condition = and_(condition, budget)
        with self._transaction() as conn:
            token = new_token()
            taken = self._take_over(conn, event_id, token, now + expires, condition)
            if not taken:
                taken = self._take_from_the_dead(conn, event_id, token, now + expires, budget)
            row = conn.execute(self._select().where(self._events.c.id == event_id)).first()
        if row is None:
            return _DUPLICATE, None
        stored = stored_event(row)
        if taken:
            return Claim(ClaimOutcome.RETRY, token, stored.attempts), stored
        # Not taken: held by a live lease (in flight), else final or out of attempts.
        return (_IN_FLIGHT if stored.status is EventStatus.PROCESSING else _DUPLICATE), stored

    def sweepable(self, *, grace: float, max_attempts: int, limit: int = 100) -> list[str]:
        check_sweep(grace, max_attempts, limit)
        before = self._now() - timedelta(seconds=grace)
        columns = self._events.c
        query = (
            select(columns.id)
            .where(
                or_(
                    and_(columns.status == _QUEUED, columns.received_at <= before),
                    and_(
                        columns.status == EventStatus.FAILED.value,
                        columns.attempts < max_attempts,
                    ),
                    and_(
                        columns.status == _PROCESSING,
                        columns.received_at <= before,
                        columns.attempts < max_attempts,
                    ),
                )
            )
            .order_by(columns.received_at, columns.id)
            .limit(limit)
        )
        with self._reading() as conn:
            return list(conn.execute(query).scalars())

    def get(self, event_id: str) -> StoredEvent | None:
        with self._reading() as conn:
            row = conn.execute(self._select().where(self._events.c.id == event_id)).first()
        return None if row is None else stored_event(row)

    def list(
        self,
        *,
        type: str | None = None,
        status: EventStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit!r}")
        columns = self._events.c
        query = self._select().order_by(columns.received_at.desc(), columns.id.desc()).limit(limit)
        if type is not None and "*" in type:
            query = query.where(columns.type.like(like_pattern(type), escape="\\"))
        elif type is not None:
            query = query.where(columns.type == type)
        if status is not None:
            query = query.where(columns.status == EventStatus(status).value)
        if since is not None:
            if since.tzinfo is None:
                raise ValueError(f"give a timezone-aware datetime (e.g. in UTC), not {since!r}")
            query = query.where(columns.received_at >= since)
        with self._reading() as conn:
            return [stored_event(row) for row in conn.execute(query)]

    def backlog(self) -> dict[EventStatus, StatusBacklog]:
        columns = self._events.c
        # The open statuses only: the status index finds their (few) rows; the
        # processed events, however many, are not read.
        query = (
            select(columns.status, func.count(), func.min(columns.received_at))
            .where(columns.status.in_([status.value for status in OPEN_STATUSES]))
            .group_by(columns.status)
        )
        found = dict.fromkeys(OPEN_STATUSES, StatusBacklog())
        with self._reading() as conn:
            for status, count, oldest in conn.execute(query):
                found[EventStatus(status)] = StatusBacklog(count, oldest)
        return found

    # Both answer a future, not a coroutine: the dispatcher's deadline waits for it
    # without a task of its own, and can still read a late answer (see call_store).

    def _call_batched(
        self, batch: BatchWriter, method: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        if not self._ready:
            return asyncio.ensure_future(self._migrate_then(batch.call, method, *args, **kwargs))
        return batch.call(method, *args, **kwargs)

    def _call_postgres(
        self, method: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        batches = self._pg_batches
        if batches is not None and _is_own(self, method, *_FINISHES):
            if not self._ready:
                return asyncio.ensure_future(
                    self._migrate_then(batches.call, method, *args, **kwargs)
                )
            return batches.call(method, *args, **kwargs)
        return asyncio.ensure_future(asyncio.to_thread(method, *args, **kwargs))

    async def _migrate_then(
        self, call: Callable[..., asyncio.Future[Any]], /, *args: Any, **kwargs: Any
    ) -> Any:
        await asyncio.to_thread(self.migrate)  # DDL and a wait for other migrators
        return await call(*args, **kwargs)

    def close(self) -> None:
        """Close the connections, if the store made its engine (yours stays open)."""
        if self._writer is not None:
            self._writer.close()
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> SQLEventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLEventStore {self._url} prefix={self._tables.prefix!r}>"

    def _select(self) -> Any:
        return select(*self._columns)

    def _retryable(self, now: datetime) -> ColumnElement[bool]:
        columns = self._events.c
        return or_(
            columns.status.in_(_WAITING),
            and_(columns.status == _PROCESSING, columns.lease_until <= now),
        )

    def _settled(self, conn: Connection, event_id: str, now: datetime) -> Claim | None:
        """DUPLICATE or IN_FLIGHT when one read shows that no UPDATE could take the event
        over (final, or held under a live lease by a live process); None to go on."""
        seen = self._seen_query
        if seen is None:
            columns = self._events.c
            seen = self._seen_query = OneRowQuery(
                select(
                    columns.status,
                    columns.lease_until > bindparam("b_now", type_=columns.lease_until.type),
                    columns.holder,
                ).where(columns.id == bindparam("b_id")),
                self._engine.dialect,
                ("b_id", "b_now"),
            )
        row = seen.one(conn, {"b_id": event_id, "b_now": now})
        return None if row is None else answer_without_update(*row)

    def _take_over(
        self,
        conn: Connection,
        event_id: str,
        token: str,
        until: datetime,
        condition: ColumnElement[bool],
    ) -> bool:
        """Hand the event to ``token`` if ``condition`` holds, in one UPDATE."""
        columns = self._events.c
        statement = (
            update(self._events)
            .where(columns.id == event_id, condition)
            .values(
                status=_PROCESSING,
                token=token,
                lease_until=until,
                attempts=columns.attempts + 1,
                processed_at=None,
                holder=current_holder(),
            )
        )
        return conn.execute(statement).rowcount == 1

    def _take_from_the_dead(
        self,
        conn: Connection,
        event_id: str,
        token: str,
        until: datetime,
        budget: ColumnElement[bool] | None = None,
    ) -> bool:
        """Take a claim over whose holder died on this machine, before its lease ends.

        The UPDATE names the dead holder's token: if anyone took the event over
        meanwhile, it changes nothing.
        """
        columns = self._events.c
        query = select(columns.token, columns.holder).where(
            columns.id == event_id, columns.status == _PROCESSING
        )
        row = conn.execute(query).first()
        if row is None or row.token is None or not holder_is_gone(row.holder):
            return False
        condition = and_(columns.token == row.token, columns.status == _PROCESSING)
        if budget is not None:
            condition = and_(condition, budget)
        taken = self._take_over(conn, event_id, token, until, condition)
        if taken:
            logger.warning(
                "took over %s from a worker that died while processing it (%s)",
                event_id,
                row.holder,
            )
        return taken

    def _finish(self, event_id: str, token: str, values: dict[str, Any]) -> bool:
        if not token:
            return False
        conn = self._batch_connection()
        if conn is not None:
            return self._finish_in(conn, event_id, token, values)
        with self._transaction() as conn:
            return self._finish_in(conn, event_id, token, values)

    def _insert_new(self, conn: Connection, values: dict[str, Any]) -> bool:
        if not self._sqlite:
            return insert_new(conn, self._events, values)
        # One compiled INSERT per set of columns: a claim's row, a queued event's row.
        names = tuple(values)
        direct = self._direct_inserts.get(names)
        if direct is None:
            statement = insert_or_nothing("sqlite", self._events)
            direct = DirectStatement(statement, self._engine.dialect, names)
            self._direct_inserts[names] = direct
        return direct.run(conn, values) == 1

    def _finish_in(
        self, conn: Connection, event_id: str, token: str, values: dict[str, Any]
    ) -> bool:
        names = tuple(sorted(values))
        params = {"b_id": event_id, "b_token": token}
        for key, value in values.items():
            params["b_" + key] = value
        if self._sqlite:
            direct = self._direct_finish.get(names)
            if direct is None:
                statement = self._finish_statement(names)
                direct = self._direct_finish[names] = DirectStatement(
                    statement, self._engine.dialect, params.keys()
                )
            return direct.run(conn, params) == 1
        return conn.execute(self._finish_statement(names), params).rowcount == 1

    def _insert_claim(
        self, conn: Connection, event: Event, now: datetime, token: str, until: datetime
    ) -> bool:
        if self._sqlite:
            insert = self._claim_insert
            if insert is None:
                insert = self._claim_insert = ClaimInsert(self._events, self._engine.dialect)
            return insert.run(driver_connection(conn), event, now, token, until, current_holder())
        values = new_row(event, now)
        values.update(token=token, lease_until=until, attempts=1, holder=current_holder())
        return insert_new(conn, self._events, values)

    def _batch_connection(self) -> Connection | None:
        """The connection of the batch this thread runs, if it runs one."""
        if self._writer is not None:
            return self._writer.batch_connection()
        if self._pg_batches is not None:
            return self._pg_batches.batch_connection()
        return None

    def _finish_statement(self, names: tuple[str, ...]) -> Update:
        # Built once per set of columns, run with parameters: a fresh `.values()` per
        # event costs SQLAlchemy more than the UPDATE costs the database.
        statement = self._finish_statements.get(names)
        if statement is None:
            columns = self._events.c
            statement = (
                update(self._events)
                .where(
                    columns.id == bindparam("b_id"),
                    columns.token == bindparam("b_token"),
                    columns.status == _PROCESSING,
                )
                .values(
                    token=None,
                    lease_until=None,
                    holder=None,
                    **{k: bindparam(f"b_{k}") for k in names},
                )
            )
            self._finish_statements[names] = statement
        return statement

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction on the store's database, for state kept beside the events
        (the billing mirror): SQLite's single writer connection (inside a batch of
        ``call_async``, the batch's transaction), else a pooled connection."""
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if not self._ready:
            self.migrate()
        if self._writer is not None:
            with self._writer.transaction() as conn:
                yield conn
            return
        with self._errors(), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection for reads only. A SQLite file's readers use pooled connections
        of their own: in WAL mode they never wait for a writer, so the health route, a
        metrics scrape or the admin's lists answer at once while a batch waits for
        another process's write lock (through the writer they would queue behind it)."""
        if self._writer is None or not self._writer.has_file:
            with self._transaction() as conn:
                yield conn
            return
        if not self._ready:
            self.migrate()
        with self._errors(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            self._after_error(exc)
            raise database_error(exc, self._engine, f"{self._tables.prefix}*") from exc
        except sqlite3.Error as exc:  # from a DirectStatement, which SQLAlchemy does not wrap
            self._after_error(exc)
            wrapped = DBAPIError.instance("", None, exc, sqlite3.Error)
            raise database_error(wrapped, self._engine, f"{self._tables.prefix}*") from exc

    def _after_error(self, exc: BaseException) -> None:
        # A pooled SQLite connection opened read-only (or whose file went away) stays
        # so: drop them all, and the next call opens the file again.
        if self._writer is not None and sqlite_code(exc) in REOPEN_CODES:
            self._engine.dispose()


_FINISHES = (SQLEventStore.complete, SQLEventStore.fail)
"""What PostgreSQL batches: the writes whose commit a delivery's answer waits for."""


def _is_own(store: SQLEventStore, method: Callable[..., Any], *functions: Any) -> bool:
    """Whether ``method`` is one of ``functions`` bound to this store."""
    owner = getattr(method, "__self__", None)
    return owner is store and getattr(method, "__func__", None) in functions


def _utcnow() -> datetime:
    return datetime.now(tz=UTC)


def _lease(lease: float) -> timedelta:
    check_lease(lease)
    return timedelta(seconds=lease)
