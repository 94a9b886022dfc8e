"""Fixtures for the event store tests: events, a fake clock, and a store per backend.

PostgreSQL tests run against a database made for this test session on the
server named by STRIPEKIT_TEST_POSTGRES_URL (default: postgres on
127.0.0.1:5432); they are skipped, with the reason, when it is unreachable.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stripekit import Event, EventStore, MemoryEventStore, parse_event

POSTGRES_ADMIN_URL = os.environ.get(
    "STRIPEKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

StoreMaker = Callable[..., EventStore]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def event_body(
    event_id: str = "evt_1",
    type: str = "invoice.paid",
    *,
    livemode: bool = False,
    account: str | None = None,
    created: int = 1_700_000_000,
    **object_fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "type": type,
        "created": created,
        "livemode": livemode,
        "data": {"object": {"id": "in_1", "object": "invoice", **object_fields}},
    }
    if account is not None:
        body["account"] = account
    return body


@pytest.fixture
def make_event() -> Callable[..., Event]:
    """``make_event(id, type, livemode=, account=, created=, **data_object_fields)``."""

    def make(event_id: str = "evt_1", type: str = "invoice.paid", **fields: Any) -> Event:
        return parse_event(json.dumps(event_body(event_id, type, **fields)).encode())

    return make


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped at the end of the session."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    where = f"{admin.host}:{admin.port or 5432}"
    conninfo = admin.render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL not reachable at {where}: {' '.join(str(exc).split())}")
    name = f"stripekit_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _sql_stores(url: str, prefix: str, clock: FakeClock) -> Iterator[StoreMaker]:
    from stripekit import SQLEventStore

    made: list[SQLEventStore] = []

    def make(**options: Any) -> SQLEventStore:
        options.setdefault("table_prefix", prefix)
        options.setdefault("clock", clock)
        store = SQLEventStore(url, **options)
        made.append(store)
        return store

    try:
        yield make
    finally:
        for store in made:
            store.close()


def _sql_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> tuple[str, str]:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'events.sqlite3'}", "stripekit_"
    url: str = request.getfixturevalue("postgres_url")
    return url, f"t{uuid.uuid4().hex[:12]}_"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[StoreMaker]:
    """Makes stores of one implementation on the fake clock; SQL ones share one database."""
    if request.param == "memory":

        def make_memory(**options: Any) -> EventStore:
            options.pop("engine_options", None)
            return MemoryEventStore(clock=options.pop("clock", clock), **options)

        yield make_memory
        return
    url, prefix = _sql_database(request, request.param, tmp_path)
    with _sql_stores(url, prefix, clock) as make:
        yield make


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(URL, table prefix) that no other test uses: a SQLite file, or fresh PostgreSQL tables."""
    return _sql_database(request, request.param, tmp_path)


@pytest.fixture
def make_sql_store(sql_database: tuple[str, str], clock: FakeClock) -> Iterator[StoreMaker]:
    """Makes SQLEventStores on this test's database; several share its tables."""
    url, prefix = sql_database
    with _sql_stores(url, prefix, clock) as make:
        yield make


@pytest.fixture
def store(make_store: StoreMaker) -> EventStore:
    return make_store()
