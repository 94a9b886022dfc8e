"""Fixtures of the queue adapter tests: a fresh database, a queue name, workers to kill."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from queue_harness import HERE, Worker


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database: the event store and the handler's tables."""
    from services import fresh_postgres_database

    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def queue_name() -> str:
    return f"stripekit_test_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Makes workers (stopped at the end of the test); their output goes to worker.log."""
    made: list[Worker] = []

    def make(command: list[str], **env: str) -> Worker:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path]), **env}
        worker = Worker(command, environment, tmp_path / "worker.log")
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


@pytest.fixture
def build() -> Iterator[Callable[..., Any]]:
    """``build(adapter, broker, database, queue)`` (queue_app.build), closed at the end."""
    import queue_app

    made: list[queue_app.Built] = []

    def make(*args: str) -> queue_app.Built:
        built = queue_app.build(*args)
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()
