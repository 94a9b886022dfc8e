"""The shop: stripekit's routes under /stripe (pricing, checkout, success{% if cookiecutter.account_page %}, the account page{% endif %}, the
webhook), a stand-in sign-in (auth.py), and / → pricing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from stripekit import Pages, StripeKit
from stripekit_fastapi import stripekit_router

from . import ROOT, SHOP_NAME, auth, load_env
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
    app.add_middleware(
        SessionMiddleware,
        secret_key=auth.session_secret(),
        same_site="lax",
        https_only=shop.settings.base_url.startswith("https://"),
    )
    app.include_router(
        stripekit_router(
            shop,
            buyer=auth.current_buyer,
            templates=[TEMPLATES],
            shop_name=SHOP_NAME,
            page_context=lambda request: {"user": auth.signed_in(request)},
        ),
        prefix="/stripe",
    )
    pages = Pages([TEMPLATES], shop_name=SHOP_NAME, mode=shop.settings.mode)
    auth.install(app, pages, {"pricing": "/stripe/pricing", "account": "/stripe/account"})

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/stripe/pricing")

    return app


app = create_app()
