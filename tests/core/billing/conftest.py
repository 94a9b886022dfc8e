"""A billing store per implementation: memory, SQLite, PostgreSQL (beside an event store)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stripekit import MemoryBillingStore, SQLBillingStore, SQLEventStore


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def billing_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryBillingStore()
        return
    if request.param == "sqlite":
        url, prefix = f"sqlite:///{tmp_path / 'billing.sqlite3'}", "stripekit_"
    else:
        url, prefix = request.getfixturevalue("postgres_url"), f"t{uuid.uuid4().hex[:10]}_"
    events = SQLEventStore(url, table_prefix=prefix)
    yield SQLBillingStore(events, table_prefix=f"{prefix}billing_")
    events.close()
