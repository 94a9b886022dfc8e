"""The demo shop as a FastAPI app: stripekit's routes, a demo sign-in, an orders page,
fulfilment handlers."""

from __future__ import annotations

import re
from pathlib import Path

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stripekit import Buyer, Catalog, Event, Pages, StripeKit, WebhookRegistry
from stripekit.catalog._currencies import format_amount
from stripekit_fastapi import stripekit_router

from ._orders import Order, OrderBook

__all__ = ["DEMO_USER_COOKIE", "create_demo_app", "demo_buyer", "demo_catalog", "demo_handlers"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
SHOP_NAME = "stripekit demo shop"


def demo_catalog() -> Catalog:
    """The demo's products (a sticker pack, a credits pack, two monthly plans)."""
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

    @webhooks.on("payment_intent.succeeded")
    def paid_in_page(event: Event) -> None:
        intent = event.object
        metadata = intent.get("metadata") or {}
        if "stripekit_quantity" not in metadata:
            return  # a checkout's payment: fulfilled from its session
        kit = kit_ref[0]
        key = str(metadata.get("stripekit_product", "?"))
        product = kit.catalog.get(key).name if key in kit.catalog else key
        quantity = (
            int(metadata["stripekit_quantity"]) if metadata["stripekit_quantity"].isdigit() else 1
        )
        total = format_amount(intent.get("amount") or 0, intent.get("currency") or "usd")
        user = metadata.get("stripekit_user")
        email = f"{user.lower()}@example.com" if user else None
        if orders.record(Order(intent["id"], product, quantity, total, email, "paid")):
            print(f"✓ fulfilled: {product} x {quantity} ({total}, {intent['id']})", flush=True)

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


DEMO_USER_COOKIE = "stripekit_demo_user"
"""Who is signed in to the demo: a name, no password (it is a demo)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def demo_user(request: Request) -> str | None:
    """The demo's signed-in user: the cookie's name, if it is a name."""
    name = request.cookies.get(DEMO_USER_COOKIE) or ""
    return name if _NAME.fullmatch(name) else None


def demo_buyer(request: Request) -> Buyer | None:
    """The signed-in demo user as Checkout sees them (their name is their reference)."""
    name = demo_user(request)
    if name is None:
        return None
    return Buyer(reference=name, email=f"{name.lower()}@example.com")


def create_demo_app(kit: StripeKit, orders: OrderBook) -> FastAPI:
    """The shop: stripekit's routes under /stripe, sign-in, the orders page, / → pricing."""
    app = FastAPI(title=SHOP_NAME)
    app.include_router(
        stripekit_router(
            kit,
            buyer=demo_buyer,
            templates=[TEMPLATES],
            shop_name=SHOP_NAME,
            page_context=lambda request: {"demo_user": demo_user(request)},
        ),
        prefix="/stripe",
    )
    pages = Pages([TEMPLATES], shop_name=SHOP_NAME, mode=kit.settings.mode)
    urls = {
        "pricing": "/stripe/pricing",
        "checkout": "/stripe/checkout",
        "account": "/stripe/account",
    }

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/stripe/pricing")

    @app.post("/signin", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name") or "").strip()
        if not _NAME.fullmatch(name):
            html = pages.error(400, "a name is 1 to 40 letters, digits, '.', '_' or '-'", urls=urls)
            return HTMLResponse(html, status_code=400)
        answer = RedirectResponse("/stripe/pricing", status_code=303)
        answer.set_cookie(DEMO_USER_COOKIE, name, httponly=True, samesite="lax")
        return answer

    @app.post("/signout", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        answer = RedirectResponse("/stripe/pricing", status_code=303)
        answer.delete_cookie(DEMO_USER_COOKIE)
        return answer

    @app.get("/orders", response_class=HTMLResponse, summary="Orders the webhook fulfilled")
    async def order_list(request: Request) -> HTMLResponse:
        html = pages.render_template(
            "orders.html", urls=urls, orders=orders.all(), demo_user=demo_user(request)
        )
        return HTMLResponse(html)

    return app
