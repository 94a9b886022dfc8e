"""What a test does when an external service it needs (PostgreSQL, Chromium...) is absent.

Locally it skips with the reason. In CI, `.ci/run` sets STRIPEKIT_REQUIRE_SERVICES=1
and makes sure every service is there, so a missing one fails the run instead of
silently skipping the tests that need it.
"""

from __future__ import annotations

import os
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
