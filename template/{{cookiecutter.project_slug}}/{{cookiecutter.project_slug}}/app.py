"""The shop: stripekit's routes under /stripe, a home page{% if cookiecutter.account_page %} and an account page{% endif %}."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stripekit import StripeKit
from stripekit.shop._pages import Pages
from stripekit_fastapi import stripekit_router

from . import ROOT, SHOP_NAME, db, load_env
from .handlers import webhooks

TEMPLATES = ROOT / "{{ cookiecutter.project_slug }}" / "templates"

load_env()
kit = StripeKit(webhooks=webhooks, products=str(ROOT / "products.toml"))


def create_app(shop: StripeKit | None = None) -> FastAPI:
    """The app; tests pass a kit of their own."""
    shop = shop or kit

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await shop.aclose()

    app = FastAPI(title=SHOP_NAME, lifespan=lifespan)
    app.include_router(
        stripekit_router(shop, templates=[TEMPLATES], shop_name=SHOP_NAME), prefix="/stripe"
    )
    pages = Pages([TEMPLATES], shop_name=SHOP_NAME, mode=shop.settings.mode)
    urls = {"pricing": "/stripe/pricing", "checkout": "/stripe/checkout", "portal": "/stripe/portal"}

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/stripe/pricing")
{%- if cookiecutter.account_page %}

    @app.get("/account", response_class=HTMLResponse)
    async def account(request: Request) -> HTMLResponse:
        html = pages.render_template(
            "account.html",
            urls=urls,
            orders=db.read("SELECT * FROM orders ORDER BY created DESC"),
            subscriptions=db.read("SELECT * FROM subscriptions"),
            credits=db.read("SELECT * FROM credits"),
        )
        return HTMLResponse(html)
{%- endif %}

    return app


app = create_app()
