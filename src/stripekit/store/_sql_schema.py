"""The SQL event store's tables, the migrations that create them, and row helpers.

The schema version lives in ``{prefix}schema_version`` (one row per applied
migration). ``migrate`` runs the missing steps in one transaction, holding a
lock so that two processes starting at once do not both run them: a
PostgreSQL advisory lock, SQLite's write lock (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Index,
    Insert,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from stripekit._errors import EventStoreError
from stripekit.webhooks._store import EventStatus

from ._holders import HOLDER_LENGTH
from ._rows import event_row

if TYPE_CHECKING:
    from stripekit.webhooks._event import Event

__all__ = [
    "SCHEMA_VERSION",
    "Tables",
    "UTCDateTime",
    "apply_migrations",
    "build_tables",
    "insert_new",
    "insert_or_nothing",
    "like_pattern",
    "migrate",
    "new_row",
    "sqlite_datetime",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in, aware UTC datetimes out, on every database.

    SQLite keeps no offset, so values are stored there as naive UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the event store takes timezone-aware datetimes, not {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # One function instead of SQLAlchemy's chain (process_bind_param, then SQLite's
        # DATETIME formatting): each delivery binds three dates on the hot path.
        # test_sqlite_dates_bind_as_sqlalchemys_chain holds it to the chain's output.
        return sqlite_datetime


_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
"""SQLAlchemy's storage format for a DATETIME on SQLite."""


def sqlite_datetime(value: datetime | None) -> str | None:
    """An aware datetime as SQLite keeps it: naive UTC text, as SQLAlchemy writes it."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"the event store takes timezone-aware datetimes, not {value!r}")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return _SQLITE_DATETIME % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


@dataclass(frozen=True, slots=True)
class Tables:
    """The store's tables, named with its prefix."""

    prefix: str
    metadata: MetaData
    events: Table
    versions: Table


def build_tables(prefix: str) -> Tables:
    """The tables as this version of stripekit uses them."""
    metadata = MetaData()
    versions = Table(
        f"{prefix}schema_version",
        metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("applied_at", UTCDateTime, nullable=False),
    )
    events = _events_v1(metadata, prefix)
    events.append_column(_holder_column())  # migration 2
    return Tables(prefix, metadata, events, versions)


def _events_v1(metadata: MetaData, prefix: str) -> Table:
    # Migration 1 creates exactly this table. When a later migration changes
    # it, give that migration its own definition instead of editing this one.
    return Table(
        f"{prefix}events",
        metadata,
        # The primary key is what makes claim() atomic: the database refuses a
        # second row with the same id, whichever process tries to insert it.
        Column("id", String(255), primary_key=True),
        Column("type", String(255), nullable=False),
        Column("livemode", Boolean, nullable=False),
        Column("account", String(255), nullable=True),
        Column("created", UTCDateTime, nullable=False),
        Column("received_at", UTCDateTime, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text, nullable=True),
        Column("processed_at", UTCDateTime, nullable=True),
        Column("token", String(64), nullable=True),
        Column("lease_until", UTCDateTime, nullable=True),
        Index(f"{prefix}events_status", "status"),
        Index(f"{prefix}events_type", "type"),
        Index(f"{prefix}events_received_at", "received_at"),
    )


def _create_events(conn: Connection, prefix: str) -> None:
    _events_v1(MetaData(), prefix).create(conn)


def _holder_column() -> Column[str]:
    # Which process holds a claim (store/_holders): one that died is taken over at once.
    return Column("holder", String(HOLDER_LENGTH), nullable=True)


def _add_holder(conn: Connection, prefix: str) -> None:
    kind = _holder_column().type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {prefix}events ADD COLUMN holder {kind}")


MIGRATIONS: list[Callable[[Connection, str], None]] = [
    _create_events,  # 1
    _add_holder,  # 2
]
"""Migration ``n`` is ``MIGRATIONS[n - 1]``; append, never edit or reorder."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this stripekit writes and reads."""


def new_row(event: Event, now: datetime) -> dict[str, Any]:
    """The row of a newly claimed event (status processing)."""
    return {**event_row(event, now), "status": EventStatus.PROCESSING.value}


def insert_new(conn: Connection, events: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless its id exists, atomically; whether it was inserted.

    The database decides: ON CONFLICT DO NOTHING where the dialect has it,
    else a savepoint around a plain INSERT that the primary key may refuse.
    """
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        result = conn.execute(insert_or_nothing(dialect, events), values)
        return result.rowcount == 1
    try:
        with conn.begin_nested():
            conn.execute(insert(events), values)
    except IntegrityError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def insert_or_nothing(dialect: str, events: Table) -> Insert:
    """``INSERT ... ON CONFLICT (id) DO NOTHING`` for PostgreSQL or SQLite, built once."""
    # Built once and run with parameters: building `.values(...)` per event cost
    # SQLAlchemy more than the database's own work (a cache key per call).
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(events).on_conflict_do_nothing(index_elements=[events.c.id])
    # SQLAlchemy memoizes an INSERT's rowcount only when asked (psycopg: -1 otherwise).
    prepared: Insert = statement.execution_options(preserve_rowcount=True)
    return prepared


def like_pattern(pattern: str) -> str:
    """A ``*`` pattern as LIKE, with LIKE's own wildcards (``_`` is common) escaped."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def migrate(conn: Connection, tables: Tables, now: datetime) -> int:
    """Apply the missing migrations on ``conn`` (the caller commits); the version reached."""
    return apply_migrations(
        conn, tables.versions, MIGRATIONS, tables.prefix, now, what="event store"
    )


def apply_migrations(
    conn: Connection,
    versions: Table,
    migrations: list[Callable[[Connection, str], None]],
    prefix: str,
    now: datetime,
    *,
    what: str,
) -> int:
    """Bring a set of tables to the last of ``migrations`` under a lock other migrators
    wait for; the caller commits. Shared by the event store and the billing mirror."""
    _lock(conn, versions.name)
    versions.create(conn, checkfirst=True)
    current = conn.execute(select(func.max(versions.c.version))).scalar_one_or_none() or 0
    if current > len(migrations):
        raise EventStoreError(
            f"the {what}'s tables ({prefix}*) are at schema version {current}, "
            f"but this stripekit only knows up to version {len(migrations)}: another process "
            f'runs a newer stripekit; upgrade this one too (pip install -U "stripekit")'
        )
    for version in range(current + 1, len(migrations) + 1):
        migrations[version - 1](conn, prefix)
        conn.execute(insert(versions).values(version=version, applied_at=now))
    return len(migrations)


def _lock(conn: Connection, prefix: str) -> None:
    """Hold, until the transaction ends, a lock that other migrators wait for."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        # Takes the write lock now (waiting out busy_timeout) instead of at the
        # first write, so two migrators cannot both read "version 0".
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        key: Any = zlib.crc32(f"stripekit.migrate:{prefix}".encode())
        conn.execute(select(func.pg_advisory_xact_lock(key)))
    # Elsewhere the version table's primary key stops a second migrator: it
    # fails on its insert and its transaction (DDL included, where the
    # database allows) rolls back.
