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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from services import fresh_postgres_database, service_missing

# Fixtures of tests/support shared by several test packages.
pytest_plugins = ["billing_fixtures"]

SHARED = Path(os.environ.get("STRIPEKIT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FIXTURES3 = SHARED / "stripe-openapi" / "fixtures3.json"


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
    with fresh_postgres_database() as url:
        yield url
