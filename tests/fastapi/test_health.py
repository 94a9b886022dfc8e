"""GET /stripe/health on FastAPI and Starlette: counts for anyone, 503 when the store is down."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi_shop import WEBHOOK_SECRET, asgi_client

from stripekit import MemoryEventStore, StripeKit
from stripekit.testing import signed_event


class BrokenStore(MemoryEventStore):
    blocking = True

    def backlog(self) -> Any:
        raise ConnectionError("could not connect to db.internal:5432")


async def test_health_counts_failed_events(
    client: httpx.AsyncClient, kit: StripeKit, orders: Any
) -> None:
    orders.fail_next = 1
    body, headers = signed_event(
        "checkout.session.completed", {"id": "cs_test_h", "object": "checkout.session"},
        secret=WEBHOOK_SECRET, id="evt_route_health",
    )  # fmt: skip
    assert (await client.post("/stripe/webhook", content=body, headers=headers)).status_code == 500

    answer = await client.get("/stripe/health")

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    health = answer.json()
    assert (health["store"], health["failed"], health["processing"]) == ("ok", 1, 0)
    assert health["oldest_failed_age_s"] >= 0
    assert "evt_route_health" not in answer.text and "warehouse" not in answer.text


async def test_health_is_503_when_the_store_does_not_answer(make_app: Any) -> None:
    kit = StripeKit(webhook_secret=WEBHOOK_SECRET, store=BrokenStore())
    try:
        async with asgi_client(make_app(kit)) as client:
            answer = await client.get("/stripe/health")
    finally:
        await kit.aclose()

    assert (answer.status_code, answer.json()) == (503, {"store": "unavailable"})
    assert "db.internal" not in answer.text


async def test_health_takes_no_post(client: httpx.AsyncClient) -> None:
    assert (await client.post("/stripe/health")).status_code == 405
