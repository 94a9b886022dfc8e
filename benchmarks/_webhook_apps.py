"""The webhook endpoints webhook_endpoint.py puts under load (uvicorn ``--factory``).

- ``kit_app``: stripekit's webhook route (``stripekit_router``), SQLite event store
  recording every event, one ``async def`` handler per type: like the baseline's
  if/elif chain, the handlers' work runs on the event loop.
- ``kit_sync_app``: the same with plain ``def`` handlers, which the kit runs in a
  worker thread (so that one that blocks cannot stall the server).
- ``kit_billing_app``: ``kit_app`` with the billing state on: each event also
  updates the mirror (a checkout session row per delivery), in the same batched
  SQLite commits as the events.
- ``kit_postgres_app``: ``kit_app`` on PostgreSQL, for webhook_scaling.py.
- ``kit_deferred_app``: ``kit_app`` in deferred mode: the route verifies, records the
  event ``queued`` and answers; its queue does nothing (the broker's publish is
  the app's own cost, not the kit's).
- ``kit_lane_app``: ``kit_app`` with ``WebhookMiddleware``: deliveries answered before
  FastAPI's routing (the route stays mounted). What the FastAPI-specific part of
  ``kit_app``'s time costs, and the setup docs/fastapi.md recommends under load.
- ``kit_memory_app``: ``kit_app`` with the in-memory store (nothing written to disk): the
  difference to ``kit_app`` is what recording each event in SQLite costs.
- ``fastapi_floor_app``: ``floor_app``'s endpoint as a FastAPI route (what FastAPI's
  own request handling costs: the kit's route is a FastAPI route too).
- ``baseline_app``: how most apps do it today: a minimal Starlette endpoint that
  calls ``stripe.Webhook.construct_event`` and an if/elif chain.
- ``floor_app``: the least any endpoint must do: a minimal Starlette endpoint that
  calls ``stripe.WebhookSignature.verify_header`` and ``json.loads``, and records
  nothing. What the kit's route costs beyond it is the price of recording every
  event and dispatching it.

All take their secret and database from the environment the benchmark sets.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

# At the top: FastAPI reads the endpoint's annotations (strings here) in this module.
from starlette.requests import Request

SECRET = os.environ.get("BENCH_WEBHOOK_SECRET", "whsec_benchmark_secret")


class _NoQueue:
    """A task queue that drops every id: what is left is the route's own work."""

    def enqueue(self, event_id: str) -> None:
        pass

    async def aenqueue(self, event_id: str) -> None:
        pass


def _kit_app(
    *,
    async_handlers: bool,
    billing: bool = False,
    deferred: bool = False,
    memory: bool = False,
    lane: bool = False,
) -> Any:
    from fastapi import FastAPI

    from stripekit import (
        Catalog,
        Event,
        MemoryEventStore,
        Price,
        Product,
        StripeKit,
        WebhookRegistry,
    )
    from stripekit_fastapi import WebhookMiddleware, stripekit_router

    fulfilled: list[str] = []
    webhooks = WebhookRegistry()

    def fulfil(event: Event) -> None:
        fulfilled.append(event.object["id"])

    async def afulfil(event: Event) -> None:
        fulfilled.append(event.object["id"])

    for event_type in ("checkout.session.completed", "invoice.paid"):
        webhooks.register(event_type, afulfil if async_handlers else fulfil)
    catalog = Catalog.from_products(
        [Product(key="p", name="P", mode="payment",
                 prices=[Price(lookup_key="p", amount=100, currency="usd", id="price_bench")])]
    )  # fmt: skip
    kit = StripeKit(
        secret_key="sk_test_benchmark",
        webhook_secret=SECRET,
        catalog=catalog,
        webhooks=webhooks,
        **(
            {"store": MemoryEventStore()}
            if memory
            else {"database_url": os.environ["BENCH_DATABASE_URL"]}
        ),
        # Off unless asked for: the route's own cost, as in earlier runs.
        billing=billing,
        processing="deferred" if deferred else "inline",
        queue=_NoQueue() if deferred else None,
    )
    app = FastAPI(lifespan=_closing(kit))
    app.include_router(stripekit_router(kit), prefix="/stripe")
    if lane:
        app.add_middleware(WebhookMiddleware, kit=kit, path="/stripe/webhook")
    return app


def _closing(kit: Any) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the kit closed when the server stops, as docs/fastapi.md says."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        await kit.aclose()

    return lifespan


def kit_app() -> Any:
    return _kit_app(async_handlers=True)


def kit_sync_app() -> Any:
    return _kit_app(async_handlers=False)


def kit_billing_app() -> Any:
    return _kit_app(async_handlers=True, billing=True)


def kit_deferred_app() -> Any:
    return _kit_app(async_handlers=True, deferred=True)


def kit_lane_app() -> Any:
    return _kit_app(async_handlers=True, lane=True)


def kit_memory_app() -> Any:
    return _kit_app(async_handlers=True, memory=True)


def baseline_app() -> Any:
    import stripe
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    fulfilled: list[str] = []

    async def webhook(request: Request) -> JSONResponse:
        payload = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                payload, request.headers.get("stripe-signature", ""), SECRET
            )
        except (ValueError, stripe.SignatureVerificationError):
            return JSONResponse({"error": "invalid"}, status_code=400)
        if event.type == "checkout.session.completed" or event.type == "invoice.paid":
            fulfilled.append(event.data.object["id"])
        return JSONResponse({"received": True})

    return Starlette(routes=[Route("/stripe/webhook", webhook, methods=["POST"])])


def kit_postgres_app() -> Any:
    """``kit_app`` on PostgreSQL (webhook_scaling.py): BENCH_DATABASE_URL, and the tables
    under BENCH_TABLE_PREFIX so that the benchmark can drop them afterwards."""
    from fastapi import FastAPI

    from stripekit import Event, SQLEventStore, StripeKit, WebhookRegistry
    from stripekit_fastapi import stripekit_router

    fulfilled: list[str] = []
    webhooks = WebhookRegistry()

    async def afulfil(event: Event) -> None:
        fulfilled.append(event.object["id"])

    webhooks.register("checkout.session.completed", afulfil)
    pool = os.environ.get("BENCH_POOL_SIZE")
    store = SQLEventStore(
        os.environ["BENCH_DATABASE_URL"],
        table_prefix=os.environ["BENCH_TABLE_PREFIX"],
        engine_options={
            **({"pool_size": int(pool)} if pool else {}),
            **({"pool_pre_ping": False} if os.environ.get("BENCH_PRE_PING") == "off" else {}),
        },
    )
    if os.environ.get("BENCH_GROUP_COMMIT") == "off":
        # Every completion in a worker thread and a commit of its own, as before group commit.
        del store.call_async
    kit = StripeKit(webhook_secret=SECRET, webhooks=webhooks, store=store, billing=False)
    app = FastAPI()
    app.include_router(stripekit_router(kit), prefix="/stripe")
    return app


def floor_app() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route

    return Starlette(routes=[Route("/stripe/webhook", _floor_endpoint(), methods=["POST"])])


def fastapi_floor_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()
    app.post("/stripe/webhook")(_floor_endpoint())
    return app


def _floor_endpoint() -> Callable[[Request], Awaitable[Any]]:
    """The floor's whole work on a delivery: its signature, then its JSON."""
    import json

    import stripe
    from starlette.responses import JSONResponse

    async def webhook(request: Request) -> JSONResponse:
        payload = await request.body()
        try:
            stripe.WebhookSignature.verify_header(
                payload, request.headers.get("stripe-signature", ""), SECRET, tolerance=300
            )
            json.loads(payload)
        except (ValueError, stripe.SignatureVerificationError):
            return JSONResponse({"error": "invalid"}, status_code=400)
        return JSONResponse({"received": True})

    return webhook
