"""Fixtures for the event store tests: events, a fake clock, and a store per backend.

The ``postgres_url`` fixture comes from tests/conftest.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stripekit import Event, EventStore, MemoryEventStore, parse_event

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
