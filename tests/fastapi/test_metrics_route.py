"""GET /stripe/metrics on FastAPI and Starlette: the metrics for the token's bearer only."""

from __future__ import annotations

from typing import Any

from fastapi_shop import WEBHOOK_SECRET, asgi_client

from stripekit import MemoryEventStore, StripeKit
from stripekit.testing import signed_event

TOKEN = "scrape-token"


async def test_metrics_for_the_bearer_of_the_token_only(make_app: Any) -> None:
    kit = StripeKit(webhook_secret=WEBHOOK_SECRET, store=MemoryEventStore(), metrics_token=TOKEN)
    body, headers = signed_event("invoice.paid", secret=WEBHOOK_SECRET, id="evt_route_metrics")
    try:
        async with asgi_client(make_app(kit)) as client:
            await client.post("/stripe/webhook", content=body, headers=headers)
            stranger = await client.get("/stripe/metrics")
            wrong = await client.get("/stripe/metrics", headers={"Authorization": "Bearer no"})
            scraper = await client.get(
                "/stripe/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
    finally:
        await kit.aclose()

    assert (stranger.status_code, wrong.status_code) == (401, 401)
    assert "invoice" not in stranger.text
    assert scraper.status_code == 200
    assert scraper.headers["content-type"].startswith("text/plain")
    assert scraper.headers["cache-control"] == "no-store"
    assert 'outcome="unhandled"' in scraper.text
    assert 'stripekit_events{status="failed"} 0.0' in scraper.text


async def test_without_a_token_there_are_no_metrics(make_app: Any) -> None:
    kit = StripeKit(webhook_secret=WEBHOOK_SECRET, store=MemoryEventStore())
    try:
        async with asgi_client(make_app(kit)) as client:
            answer = await client.get("/stripe/metrics", headers={"Authorization": "Bearer x"})
    finally:
        await kit.aclose()

    assert answer.status_code == 404
