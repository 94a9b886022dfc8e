"""Which SQLite connections SQLAlchemy opened and which are still open.

For the tests that a store, a kit or a command closes what it opened: Python 3.13 warns
of every sqlite3 connection collected open (an error under this suite's ``-W error``),
but only when the collector happens to run, and on no earlier Python. This asks each
connection itself, on every Python: a closed one refuses to run a statement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

__all__ = ["sqlite_connections", "still_open"]


@contextmanager
def sqlite_connections() -> Iterator[list[sqlite3.Connection]]:
    """Every DB-API connection any engine opens meanwhile, in order."""
    opened: list[sqlite3.Connection] = []

    def connect(dbapi_connection: Any, record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            opened.append(dbapi_connection)

    event.listen(Engine, "connect", connect)
    try:
        yield opened
    finally:
        event.remove(Engine, "connect", connect)


def still_open(connections: list[sqlite3.Connection]) -> list[sqlite3.Connection]:
    """Those of ``connections`` that are not closed."""
    found = []
    for connection in connections:
        try:
            connection.execute("SELECT 1")
        except sqlite3.ProgrammingError as exc:
            if "closed database" in str(exc):  # not another thread's connection
                continue
            raise
        found.append(connection)
    return found
