"""Fixtures shared by every test package.

PostgreSQL tests run against a database made for this test session on the
server named by STRIPEKIT_TEST_POSTGRES_URL (default: postgres on
127.0.0.1:5432); they skip, with the reason, when it is unreachable, and fail
instead under STRIPEKIT_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from services import service_missing

SHARED = Path(os.environ.get("STRIPEKIT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FIXTURES3 = SHARED / "stripe-openapi" / "fixtures3.json"
POSTGRES_ADMIN_URL = os.environ.get(
    "STRIPEKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no STRIPE_/STRIPEKIT_ variable from the machine they run on."""
    for name in list(os.environ):
        if name.startswith(("STRIPE_", "STRIPEKIT_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def stripe_fixtures() -> dict[str, Any]:
    """Stripe's own sample of every API object (../shared/stripe-openapi/fixtures3.json)."""
    if not FIXTURES3.exists():
        service_missing(f"Stripe's fixtures3.json is not at {FIXTURES3} (set STRIPEKIT_SHARED)")
    resources: dict[str, Any] = json.loads(FIXTURES3.read_text())["resources"]
    return resources


@pytest.fixture(scope="session")
def stripekit_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with this checkout's wheel, as `pip wheel --no-deps -w dist .` builds it (once)."""
    from venvs import ROOT, run

    where = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where), str(ROOT)])
    return where


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped at the end of the session."""
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
