"""Fixtures shared by every test package."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

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
        pytest.skip(f"Stripe's fixtures3.json is not at {FIXTURES3} (set STRIPEKIT_SHARED)")
    resources: dict[str, Any] = json.loads(FIXTURES3.read_text())["resources"]
    return resources
