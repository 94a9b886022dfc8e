"""Fixtures of the queue adapter tests: each adapter on its broker, a fresh database, and
docs/scale.md's tasks.py deployed on them (queue_harness.Shop)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from queue_harness import ADAPTERS, Adapter, Shop


@pytest.fixture(params=ADAPTERS, ids=str)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    found: Adapter = request.param
    found.require()
    return found


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database: the event store and the handler's tables."""
    from services import fresh_postgres_database

    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def shop(adapter: Adapter, database: str, tmp_path: Path) -> Iterator[Shop]:
    """The page's tasks.py for ``adapter`` on its running broker, on a queue of this test's
    own; its processes are stopped at the end of the test."""
    queue = f"stripekit_test_{uuid.uuid4().hex[:10]}"
    deployed = Shop(adapter, adapter.broker(), database, queue, tmp_path)
    yield deployed
    deployed.close()
