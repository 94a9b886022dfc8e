"""A SQLAlchemy statement run straight on the driver's connection, for the hot writes.

Every delivery makes two writes: the claim's INSERT and the UPDATE that completes
or fails it. Through ``Connection.execute``, SQLAlchemy's per-call bookkeeping
(execution context, parameter dicts, result object) cost more than SQLite's own
work. The statement is still SQLAlchemy's, compiled once for the dialect, and its
values still pass through the column types' own bind processors, so the rows are
exactly those the store's other statements write and read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

__all__ = ["DirectStatement", "OneRowQuery", "driver_connection"]


class DirectStatement:
    """``statement`` compiled once; ``run`` sends it with a tuple of processed values.

    Only for drivers with a positional paramstyle (sqlite3's ``?``).

    Args:
        statement: the INSERT or UPDATE.
        dialect: the engine's dialect.
        keys: the names of the values each ``run`` passes; every other bound
            parameter of the statement is a constant compiled into it.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Collection[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not use positional parameters")
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup)
        """The bound parameters' names, in the order the statement takes them."""
        # The constants in place once; each call fills in the values (and processes
        # those that need it): a loop over the values only, no per-call branching.
        template: list[Any] = []
        steps: list[tuple[int, str, Callable[[Any], Any] | None]] = []
        for position, name in enumerate(compiled.positiontup):
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in keys:
                steps.append((position, name, processor))
                template.append(None)
            else:
                value = bind.effective_value
                if processor is not None and value is not None:
                    value = processor(value)
                template.append(value)
        self._template = tuple(template)
        self._steps = tuple(steps)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for ``values``, processed as SQLAlchemy would."""
        out = list(self._template)
        for position, name, processor in self._steps:
            value = values[name]
            out[position] = value if processor is None or value is None else processor(value)
        return tuple(out)

    def run(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Execute in ``conn``'s transaction; the number of rows it changed."""
        cursor = driver_connection(conn).execute(self.sql, self.parameters(values))
        return int(cursor.rowcount)


class OneRowQuery:
    """A SELECT of at most one row, built once: on SQLite sent straight to the driver.

    The row comes back as the driver gives it (no result processing): for columns
    whose raw value is what the caller compares (strings, a boolean test).

    Args:
        statement: the SELECT, with a ``bindparam`` for every value a call passes.
        dialect: the engine's dialect.
        keys: the names of those bindparams.
    """

    def __init__(self, statement: Select[Any], dialect: Dialect, keys: Collection[str]) -> None:
        self._statement = statement
        positional = dialect.paramstyle == "qmark"
        self._direct = DirectStatement(statement, dialect, keys) if positional else None

    def one(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The row for ``values`` in ``conn``'s transaction, or None."""
        direct = self._direct
        if direct is None:
            row = conn.execute(self._statement, dict(values)).first()
            return None if row is None else tuple(row)
        found = driver_connection(conn).execute(direct.sql, direct.parameters(values)).fetchone()
        return None if found is None else tuple(found)


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection under ``conn`` (sqlite3.Connection for SQLite)."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection was closed")
    return driver
