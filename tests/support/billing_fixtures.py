"""Fixtures for the tests that play billing flows on the emulator (a pytest plugin that
tests/conftest.py loads; a test module's own fixture of the same name wins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from billing_flows import Flows, write_products

from stripekit.emulator import RunningEmulator


@pytest.fixture
def products(tmp_path: Path) -> Path:
    """The billing flows' products file (a one-time product and plans)."""
    return write_products(tmp_path)


@pytest.fixture
def flows(stripe_emulator: RunningEmulator, products: Path) -> Iterator[Flows]:
    """Purchases and subscriptions played on the emulator, with its catalog synced."""
    played = Flows(stripe_emulator, products)
    yield played
    played.close()
