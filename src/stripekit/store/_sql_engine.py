"""The SQL event store's engine: URL checks, driver and pool choices, readable errors.

A database URL may hold a password: it is shown only as
``render_as_string(hide_password=True)`` renders it, and scrubbed from driver messages.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool

from stripekit._errors import ConfigurationError, EventStoreError

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "database_error", "make_engine", "sqlite_synchronous"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another one before giving up."""

POSTGRES_CONNECT_TIMEOUT = 10
"""Seconds before an unreachable PostgreSQL server is reported, instead of hanging."""

_EXAMPLES = "sqlite:///stripekit.sqlite3 or postgresql://user:password@host:5432/dbname"


def make_engine(url_or_engine: str | Engine, options: Mapping[str, Any]) -> tuple[Engine, bool]:
    """The engine for a URL (made here: True) or the caller's own engine (False)."""
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    url = _parse(url_or_engine)
    backend = url.get_backend_name()
    defaults: dict[str, Any] = {}
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        # One in-memory database only lives as long as its one connection.
        defaults.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif backend == "postgresql":
        defaults.update(pool_pre_ping=True)
        if url.get_driver_name() == "psycopg" and "connect_timeout" not in url.query:
            defaults.update(connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT})
    defaults.update(options)
    safe = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(url, **defaults)
    except NoSuchModuleError:
        raise ConfigurationError(
            f"SQLAlchemy has no database dialect {url.drivername!r} (event store URL {safe}): "
            f"give a URL such as {_EXAMPLES}"
        ) from None
    except ImportError as exc:
        if backend == "postgresql":
            hint = 'install PostgreSQL support: pip install "stripekit[postgres]"'
        else:
            hint = f"install the Python driver SQLAlchemy uses for {url.drivername!r}"
        raise ConfigurationError(
            f"the database driver for the event store URL {safe} is not installed "
            f"(no module {exc.name or '?'!r}): {hint}"
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine, True


def _parse(raw: str) -> URL:
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        # SQLAlchemy's message repeats the URL, password included: say it without.
        raise ConfigurationError(
            f"the event store URL (STRIPEKIT_DATABASE_URL) is not a database URL; "
            f"give one such as {_EXAMPLES}"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    return url


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock other connections may hold.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # WAL: readers never block the writer, and commits are cheaper. Switching
        # a fresh file to WAL can answer "locked" at once (busy_timeout is not
        # consulted for it) while another process creates the schema: retry.
        for attempt in range(50):
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.02 * (attempt + 1))
        # In WAL mode, NORMAL syncs at checkpoints, not at every commit: a process crash
        # loses nothing committed; only an OS crash or power cut can drop the last
        # commits (SQLite's recommended setting for WAL; STRIPEKIT_SQLITE_SYNCHRONOUS=FULL
        # syncs every commit, for a machine without a battery-backed disk cache).
        cursor.execute(f"PRAGMA synchronous = {sqlite_synchronous()}")
    finally:
        cursor.close()


def sqlite_synchronous() -> str:
    """SQLite's ``synchronous`` setting for the event store (STRIPEKIT_SQLITE_SYNCHRONOUS)."""
    value = os.environ.get("STRIPEKIT_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if value not in ("NORMAL", "FULL", "EXTRA"):
        raise ConfigurationError(
            f"STRIPEKIT_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {value!r}"
        )
    return value


def database_error(exc: SQLAlchemyError, engine: Engine, tables: str) -> EventStoreError:
    """``exc`` as an EventStoreError that says what to check and never shows the password."""
    url = engine.url.render_as_string(hide_password=True)
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    detail = " ".join(str(orig if orig is not None else exc).split())[:500]
    password = engine.url.password
    if password:
        detail = detail.replace(str(password), "***")
    if isinstance(exc, OperationalError | InterfaceError) and (
        exc.statement is None or exc.connection_invalidated
    ):
        return EventStoreError(
            f"cannot reach the event store database {url}: {detail}. Check that the "
            f"server is running and reachable from here, and that the URL "
            f"(STRIPEKIT_DATABASE_URL) has the right host, port, database, user and password"
        )
    return EventStoreError(
        f"the event store database {url} failed: {detail}. Check that the database is "
        f"healthy and that its {tables} tables were not changed by hand"
    )
