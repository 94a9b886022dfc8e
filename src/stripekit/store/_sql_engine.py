"""The SQL event store's engine: URL checks, driver and pool choices, readable errors.

A database URL may hold a password: it is shown only as
``render_as_string(hide_password=True)`` renders it, and scrubbed from driver messages.
"""

from __future__ import annotations

import math
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

from ._timeouts import StoreTimeouts

__all__ = [
    "REOPEN_CODES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "StoreTimeouts",
    "database_error",
    "make_engine",
    "sqlite_code",
    "sqlite_problem",
    "sqlite_synchronous",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another one before giving up."""


def _postgres_options(timeouts: StoreTimeouts) -> dict[str, Any]:
    # Server side: a statement or a lock wait past its time is cancelled. Client side:
    # TCP keepalives and TCP_USER_TIMEOUT close a connection whose server stopped
    # answering (a network partition) instead of waiting for the OS's ~15 minutes.
    unacked_ms = int((timeouts.statement + timeouts.connect) * 1000)
    return {
        "pool_pre_ping": True,
        "pool_timeout": timeouts.connect,
        "connect_args": {
            "connect_timeout": max(2, math.ceil(timeouts.connect)),
            "options": (
                f"-c statement_timeout={int(timeouts.statement * 1000)} "
                f"-c lock_timeout={int(timeouts.lock * 1000)}"
            ),
            "keepalives": 1,
            "keepalives_idle": max(1, math.ceil(timeouts.statement)),
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": unacked_ms,
        },
    }


_EXAMPLES = "sqlite:///stripekit.sqlite3 or postgresql://user:password@host:5432/dbname"


def make_engine(
    url_or_engine: str | Engine, options: Mapping[str, Any], timeouts: StoreTimeouts
) -> tuple[Engine, bool]:
    """The engine for a URL (made here: True) or the caller's own engine (False)."""
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    url = _parse(url_or_engine)
    backend = url.get_backend_name()
    defaults: dict[str, Any] = {}
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        # One in-memory database only lives as long as its one connection.
        defaults.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif backend == "postgresql" and url.get_driver_name() == "psycopg":
        defaults.update(_postgres_options(timeouts))
        # What the URL says itself wins (e.g. ?connect_timeout=10).
        for name in url.query:
            defaults["connect_args"].pop(name, None)
    elif backend == "postgresql":
        defaults.update(pool_pre_ping=True)
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
    if isinstance(orig, sqlite3.Error):
        problem = sqlite_problem(orig, engine.url.database or ":memory:")
        if problem is not None:
            return EventStoreError(f"{problem} (SQLite: {detail})")
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


# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26

REOPEN_CODES = frozenset({_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_IOERR})
"""Errors a connection keeps once it has them (opened read-only, a file gone): the store
drops its connections after one, so that the next call opens new ones."""


def sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of a driver error (wrapped by SQLAlchemy or not)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def sqlite_problem(exc: sqlite3.Error, path: str) -> str | None:
    """What went wrong with the SQLite file at ``path``, in words that say what to do."""
    code = sqlite_code(exc)
    where = f"the event store database {path}"
    if code == _SQLITE_FULL:
        return (
            f"the disk holding {where} is full: free space there, or move the database "
            "(STRIPEKIT_DATABASE_URL)"
        )
    if code in (_SQLITE_READONLY, _SQLITE_PERM):
        return (
            f"{where} is read-only: the app's user must be able to write the file, its "
            "-wal and -shm files and their folder (the store opens it again at the next "
            "delivery, no restart needed)"
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (
            f"{where} stayed locked by another connection for over "
            f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s: look for a process holding a long write "
            "transaction on it"
        )
    if code == _SQLITE_CANTOPEN:
        return (
            f"cannot open {where}: check that its folder exists and that the app's user "
            "may create files there"
        )
    if code == _SQLITE_IOERR:
        return f"the disk failed reading or writing {where}: check the disk and the file system"
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return f"{where} is not a SQLite database, or is damaged: restore it or point elsewhere"
    return None
