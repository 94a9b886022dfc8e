"""Fixtures of the reliability tests: servers to kill, and a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from services import fresh_postgres_database
from webhook_server import Server


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts; all are stopped at its end."""
    made: list[Server] = []
    yield made
    for server in made:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for this test alone: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        return
    with fresh_postgres_database() as url:
        yield url
