"""The demo shop as a FastAPI app: stripekit's routes, an orders page, fulfilment handlers."""

from __future__ import annotations

from pathlib import Path

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stripekit import Catalog, Event, StripeKit, WebhookRegistry
from stripekit.catalog._currencies import format_amount
from stripekit.shop._pages import Pages
from stripekit_fastapi import stripekit_router

from ._orders import Order, OrderBook

__all__ = ["create_demo_app", "demo_catalog", "demo_handlers"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
SHOP_NAME = "stripekit demo shop"


def demo_catalog() -> Catalog:
    """The demo's products (a sticker pack, a credits pack, a monthly plan with a trial)."""
    return Catalog.load(HERE / "products.toml")


def demo_handlers(orders: OrderBook, kit_ref: list[StripeKit]) -> WebhookRegistry:
    """Handlers that fulfil orders into the shop's own database, and say so."""
    webhooks = WebhookRegistry()

    @webhooks.on("checkout.session.completed")
    def fulfil(event: Event) -> None:
        kit = kit_ref[0]
        # Ask Stripe for the session as it is now, with what was bought.
        try:
            session = kit.client.v1.checkout.sessions.retrieve(
                event.object["id"], {"expand": ["line_items"]}
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            # A made-up event (`stripekit webhooks send`): verified and recorded, but
            # about no sale of this shop's, so there is nothing to fulfil.
            print(
                f"· {event.type} {event.id}: session {event.object['id']} is not in Stripe "
                "(a test event?): nothing to fulfil",
                flush=True,
            )
            return
        metadata = session.metadata.to_dict() if session.metadata else {}
        key = str(metadata.get("stripekit_product", "?"))
        product = kit.catalog.get(key).name if key in kit.catalog else key
        quantity = (
            sum(item.quantity or 0 for item in session.line_items.data) if session.line_items else 1
        )
        email = session.customer_details.email if session.customer_details else None
        status = (
            "trial" if session.payment_status == "no_payment_required" else session.payment_status
        )
        total = format_amount(session.amount_total or 0, session.currency or "usd")
        if orders.record(Order(session.id, product, quantity, total, email, status)):
            print(
                f"✓ fulfilled: {product} x {quantity} for {email} ({total}, {session.id})",
                flush=True,
            )

    @webhooks.on("invoice.paid")
    def renewal(event: Event) -> None:
        invoice = event.object
        if invoice.get("billing_reason") == "subscription_cycle":
            amount = format_amount(
                invoice.get("amount_paid") or 0, invoice.get("currency") or "usd"
            )
            print(f"✓ renewal paid: {amount} ({invoice['id']})", flush=True)

    @webhooks.on("customer.subscription.deleted")
    def ended(event: Event) -> None:
        print(f"✓ subscription ended: {event.object['id']}", flush=True)

    return webhooks


def create_demo_app(kit: StripeKit, orders: OrderBook) -> FastAPI:
    """The shop: stripekit's routes under /stripe, the orders page, / → pricing."""
    app = FastAPI(title=SHOP_NAME)
    app.include_router(
        stripekit_router(kit, templates=[TEMPLATES], shop_name=SHOP_NAME), prefix="/stripe"
    )
    pages = Pages([TEMPLATES], shop_name=SHOP_NAME, mode=kit.settings.mode)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/stripe/pricing")

    @app.get("/orders", response_class=HTMLResponse, summary="Orders the webhook fulfilled")
    async def order_list(request: Request) -> HTMLResponse:
        urls = {"pricing": "/stripe/pricing", "checkout": "/stripe/checkout"}
        html = pages.render_template("orders.html", urls=urls, orders=orders.all())
        return HTMLResponse(html)

    return app
