"""A shop on the emulator, for the FastAPI tests, the e2e tests and the benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import stripe
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.routing import Mount

from stripekit import (
    Buyer,
    Catalog,
    Event,
    StripeKit,
    WebhookRegistry,
    apply_sync,
    plan_sync,
    read_account,
)
from stripekit.emulator import RunningEmulator
from stripekit_fastapi import WebhookMiddleware, stripekit_router, stripekit_routes

SECRET_KEY = "sk_test_fastapi_shop"
WEBHOOK_SECRET = "whsec_fastapi_shop"
PRODUCTS = """
[products.pro]
name = "Pro"
description = "For growing teams"
mode = "subscription"
features = ["Unlimited projects"]

[[products.pro.prices]]
key = "monthly"
lookup_key = "pro_monthly"
amount = 1500
currency = "usd"
interval = "month"
trial_days = 14

[products.book]
name = "The Book"
mode = "payment"
max_quantity = 3

[[products.book.prices]]
lookup_key = "book_eur"
amount = 1900
currency = "eur"
"""


class Orders:
    """What the shop's handlers did: the fulfilment a test looks for."""

    def __init__(self) -> None:
        self.fulfilled: list[str] = []
        self.fail_next = 0


def buyer_from_headers(request: Request) -> Buyer | None:
    """The test app's "logged-in user": headers stand in for a session cookie."""
    user = request.headers.get("x-user")
    if user is None:
        return None
    return Buyer(
        customer=request.headers.get("x-customer"),
        email=f"{user}@example.com",
        reference=user,
        metadata={"plan_source": "pricing"},
    )


def storefront_from_headers(request: Request) -> str | None:
    """The test app's connected-account resolver, a FastAPI dependency (hence ``Request``):
    ``account_scenarios.storefront_account``, the one the Django tests use too."""
    from account_scenarios import storefront_account

    return storefront_account(request)


def make_kit(emulator: RunningEmulator, tmp_path: Path, orders: Orders, **extra: Any) -> StripeKit:
    products = tmp_path / "products.toml"
    products.write_text(PRODUCTS)
    webhooks = WebhookRegistry()

    @webhooks.on("checkout.session.completed")
    def fulfil(event: Event) -> None:
        if orders.fail_next:
            orders.fail_next -= 1
            raise RuntimeError("the warehouse is down")
        orders.fulfilled.append(event.object["id"])

    kit = StripeKit(
        secret_key=SECRET_KEY,
        publishable_key="pk_test_fastapi_shop",
        webhook_secret=WEBHOOK_SECRET,
        api_base=emulator.api_base,
        products=str(products),
        base_url="http://shop.test",
        database_url=f"sqlite:///{tmp_path / 'events.sqlite3'}",
        webhooks=webhooks,
        **extra,
    )
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": emulator.api_base})
    catalog = Catalog.load(products)
    apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
    return kit


def fastapi_app(kit: StripeKit, **options: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(stripekit_router(kit, buyer=buyer_from_headers, **options), prefix="/stripe")
    return app


def fastapi_lane_app(kit: StripeKit, **options: Any) -> FastAPI:
    """``fastapi_app`` with ``WebhookMiddleware``: deliveries answered before the routing."""
    app = fastapi_app(kit, **options)
    app.add_middleware(WebhookMiddleware, kit=kit, path="/stripe/webhook")
    return app


def starlette_app(kit: StripeKit, **options: Any) -> Starlette:
    routes = stripekit_routes(kit, buyer=buyer_from_headers, **options)
    return Starlette(routes=[Mount("/stripe", routes=routes)])


def asgi_client(app: Any) -> httpx.AsyncClient:
    """An HTTP client that calls the app in-process (no server, no redirects followed)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test")
