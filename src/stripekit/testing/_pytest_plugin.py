"""pytest fixtures for apps that use stripekit (registered as the ``stripekit`` plugin).

- ``stripe_emulator``: the local Stripe emulator, served for the test session and
  reset before each test (a RunningEmulator: ``.api_base``, ``.add_webhook_endpoint``,
  ``.advance_clock``, ``.deliveries``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from stripekit.emulator import RunningEmulator


@pytest.fixture(scope="session")
def _stripekit_emulator_server() -> Iterator[RunningEmulator]:
    from stripekit._errors import MissingExtraError
    from stripekit._extras import needs_extra

    try:
        with needs_extra("the stripe_emulator fixture"):
            import uvicorn  # noqa: F401 - it serves the emulator

            from stripekit.emulator import run_emulator
    except MissingExtraError as exc:
        pytest.fail(str(exc), pytrace=False)
    with run_emulator() as running:
        yield running


@pytest.fixture
def stripe_emulator(_stripekit_emulator_server: RunningEmulator) -> RunningEmulator:
    """A running Stripe emulator with nothing in it (shared by the session, reset per test)."""
    _stripekit_emulator_server.reset()
    return _stripekit_emulator_server
