"""SQLEventStore: the event store in a SQL database through SQLAlchemy Core.

SQLite by default (a file, in WAL mode); PostgreSQL for production and for
several app instances. Each step of ``claim`` is one atomic statement, so the
database, never a Python check, decides which delivery runs the handlers::

    INSERT ... ON CONFLICT (id) DO NOTHING      1 row: NEW
    UPDATE ... WHERE failed or lease ran out    1 row: RETRY
    SELECT status                               final: DUPLICATE, else IN_FLIGHT
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.base import Executable

from ._errors import ConfigurationError
from ._store import FINAL_STATUSES, Claim, ClaimOutcome, EventStatus, StoredEvent, clean_error
from ._store_sql_engine import database_error, make_engine
from ._store_sql_schema import (
    build_tables,
    insert_new,
    like_pattern,
    migrate,
    new_row,
    stored_event,
)

if TYPE_CHECKING:
    from ._event import Event

__all__ = ["DEFAULT_URL", "SQLEventStore"]

DEFAULT_URL = "sqlite:///stripekit.sqlite3"

_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,30}")
_IN_FLIGHT = Claim(ClaimOutcome.IN_FLIGHT)
_DUPLICATE = Claim(ClaimOutcome.DUPLICATE)
_FINAL = [status.value for status in FINAL_STATUSES]
_PROCESSING = EventStatus.PROCESSING.value


class SQLEventStore:
    """An EventStore in a SQL database; its tables are created and migrated on first use.

    Args:
        url_or_engine: a SQLAlchemy URL (``sqlite:///stripekit.sqlite3``,
            ``postgresql://user:password@host/db``) or an Engine you own.
        table_prefix: the start of the store's table names.
        clock: returns the current time (timezone-aware); tests pass a fake one.
        engine_options: extra ``create_engine`` arguments (e.g. ``pool_size``).

    Example:
        >>> store = SQLEventStore("sqlite://")
        >>> store.migrate()
        1
        >>> store.list()
        []
    """

    blocking = True

    def __init__(
        self,
        url_or_engine: str | Engine = DEFAULT_URL,
        *,
        table_prefix: str = "stripekit_",
        clock: Callable[[], datetime] | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not _PREFIX.fullmatch(table_prefix):
            raise ConfigurationError(
                f"table_prefix {table_prefix!r} is not a plain SQL name: use letters, "
                f"digits and underscores, at most 31 characters"
            )
        self._engine, self._owns_engine = make_engine(url_or_engine, engine_options or {})
        self._url = self._engine.url.render_as_string(hide_password=True)
        self._tables = build_tables(table_prefix)
        self._events = self._tables.events
        self._now = clock or _utcnow
        self._ready = False
        self._migrate_lock = threading.Lock()
        self._finish_statements: dict[tuple[str, ...], Executable] = {}
        # SQLite has one writer at a time; threads of this process queue on a lock
        # instead of spinning in SQLite's busy handler (whose sleeps grow to 100 ms).
        # Other processes still wait through busy_timeout.
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self._sqlite else nullcontext()
        )
        # SQLite's writes go through one connection the lock guards: checking a
        # connection out of the pool per transaction cost more than the write.
        self._writer: Connection | None = None
        columns = self._events.c
        self._columns = [c for c in columns if c.name not in ("token", "lease_until")]

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
        now = self._now()
        columns = self._events.c
        with self._transaction() as conn:
            token = secrets.token_hex(16)
            values = new_row(event, now)
            values.update(token=token, lease_until=now + expires, attempts=1)
            if insert_new(conn, self._events, values):
                return Claim(ClaimOutcome.NEW, token, 1)
            taken = self._take_over(conn, event.id, token, now + expires, self._retryable(now))
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

    def claim_for_replay(
        self, event_id: str, *, lease: float, force: bool = False
    ) -> tuple[Claim, StoredEvent | None]:
        expires = _lease(lease)
        now = self._now()
        condition = self._retryable(now)
        if force:
            condition = or_(condition, self._events.c.status.in_(_FINAL))
        with self._transaction() as conn:
            token = secrets.token_hex(16)
            taken = self._take_over(conn, event_id, token, now + expires, condition)
            row = conn.execute(self._select().where(self._events.c.id == event_id)).first()
        if row is None:
            return _DUPLICATE, None
        stored = stored_event(row)
        if taken:
            return Claim(ClaimOutcome.RETRY, token, stored.attempts), stored
        return (_DUPLICATE if stored.status in FINAL_STATUSES else _IN_FLIGHT), stored

    def get(self, event_id: str) -> StoredEvent | None:
        with self._transaction() as conn:
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
        with self._transaction() as conn:
            return [stored_event(row) for row in conn.execute(query)]

    def close(self) -> None:
        """Close the connections, if the store made its engine (yours stays open)."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
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
            columns.status == EventStatus.FAILED.value,
            and_(columns.status == _PROCESSING, columns.lease_until <= now),
        )

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
            )
        )
        return conn.execute(statement).rowcount == 1

    def _finish(self, event_id: str, token: str, values: dict[str, Any]) -> bool:
        if not token:
            return False
        statement = self._finish_statement(tuple(sorted(values)))
        params = {"b_id": event_id, "b_token": token, **{f"b_{k}": v for k, v in values.items()}}
        with self._transaction() as conn:
            return conn.execute(statement, params).rowcount == 1

    def _finish_statement(self, names: tuple[str, ...]) -> Executable:
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
                .values(token=None, lease_until=None, **{k: bindparam(f"b_{k}") for k in names})
            )
            self._finish_statements[names] = statement
        return statement

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if not self._ready:
            self.migrate()
        if not self._sqlite:
            with self._errors(), self._engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self._errors():
            if self._writer is None or self._writer.closed:
                self._writer = self._engine.connect()
            writer = self._writer
            try:
                with writer.begin():
                    yield writer
            except BaseException:
                # A broken connection is not kept for the next write.
                if writer.invalidated:
                    writer.close()
                    self._writer = None
                raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise database_error(exc, self._engine, f"{self._tables.prefix}*") from exc


def _utcnow() -> datetime:
    return datetime.now(tz=UTC)


def _lease(lease: float) -> timedelta:
    if not 0 < lease < 10**9:
        raise ValueError(f"lease must be a positive number of seconds, not {lease!r}")
    return timedelta(seconds=lease)
