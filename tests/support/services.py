"""What a test does when an external service it needs (PostgreSQL, Chromium...) is absent.

Locally it skips with the reason. In CI, `.ci/run` sets STRIPEKIT_REQUIRE_SERVICES=1
and makes sure every service is there, so a missing one fails the run instead of
silently skipping the tests that need it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest

# Read once, at import: the suite's autouse fixture clears STRIPEKIT_* from the
# environment of each test so the machine's settings never leak into one.
REQUIRE_SERVICES = os.environ.get("STRIPEKIT_REQUIRE_SERVICES", "") not in ("", "0")


def service_missing(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (STRIPEKIT_REQUIRE_SERVICES=1: CI must provide it)", pytrace=False)
    pytest.skip(reason)


POSTGRES_ADMIN_URL = os.environ.get(
    "STRIPEKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
"""The server PostgreSQL tests make their databases on (STRIPEKIT_TEST_POSTGRES_URL)."""


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new PostgreSQL database, dropped when the block ends.

    Skips (or fails, in CI) when the server is unreachable.
    """
    try:
        import psycopg
    except ImportError:
        service_missing("psycopg is not installed (pip install 'stripekit[postgres]')")
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    where = f"{admin.host}:{admin.port or 5432}"
    conninfo = admin.render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        service_missing(f"PostgreSQL not reachable at {where}: {' '.join(str(exc).split())}")
    name = f"stripekit_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_URL = os.environ.get("STRIPEKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
"""The Redis server the queue tests use (STRIPEKIT_TEST_REDIS_URL)."""

AMQP_URL = os.environ.get("STRIPEKIT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
"""The RabbitMQ server the queue tests use (STRIPEKIT_TEST_AMQP_URL)."""


def require_port(url: str, what: str) -> str:
    """``url`` if its host:port accepts a TCP connection, else skip (or fail, in CI)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        with socket.create_connection((host, port or 0), timeout=3):
            return url
    except OSError as exc:
        service_missing(f"{what} not reachable at {host}:{port}: {exc}")


def require_module(name: str, extra: str) -> None:
    """Skip (or fail, in CI) when an optional queue library is not installed."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        service_missing(f"{name} is not installed (pip install 'stripekit[{extra}]')")
