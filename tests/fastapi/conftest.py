"""A shop on the emulator, as a FastAPI app and as a plain Starlette app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi_shop import (
    Orders,
    asgi_client,
    fastapi_app,
    fastapi_lane_app,
    make_kit,
    starlette_app,
)

from stripekit import StripeKit
from stripekit.emulator import RunningEmulator


@pytest.fixture
def orders() -> Orders:
    return Orders()


@pytest.fixture
def kit(stripe_emulator: RunningEmulator, tmp_path: Path, orders: Orders) -> StripeKit:
    return make_kit(stripe_emulator, tmp_path, orders)


@pytest.fixture(params=["fastapi", "starlette", "fastapi+WebhookMiddleware"])
def make_app(request: pytest.FixtureRequest) -> Any:
    apps = {
        "fastapi": fastapi_app,
        "starlette": starlette_app,
        "fastapi+WebhookMiddleware": fastapi_lane_app,
    }
    return apps[request.param]


@pytest.fixture
async def client(kit: StripeKit, make_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(make_app(kit)) as test_client:
        yield test_client
    await kit.aclose()
