"""The hosted pages: Checkout's payment page and the billing portal (Jinja2, no CDN)."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from stripekit.catalog._currencies import format_amount

from ._cards import TEST_CARDS
from ._checkout_api import trial_days, trial_end
from ._checkout_pay import ChallengeNeeded, card_needed, pay_session
from ._core import Emulator
from ._payments import authenticate
from ._periods import period_end
from ._subscriptions import cancel_subscription, resume_subscription
from ._wire import StripeError

__all__ = ["page_routes"]


@functools.cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("stripekit.emulator", "templates"),
        autoescape=select_autoescape(),
    )
    env.filters["money"] = lambda amount, currency: format_amount(int(amount or 0), currency)
    env.filters["date"] = _date
    return env


def _date(timestamp: int) -> str:
    """``1 March 2026`` (the emulator's pages speak UTC)."""
    moment = datetime.fromtimestamp(int(timestamp), UTC)
    return f"{moment.day} {moment:%B %Y}"


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(**context), status_code=status)


def _problem(title: str, message: str, status: int) -> HTMLResponse:
    return _render("problem.html", status, title=title, message=message)


def page_routes(emu: Emulator) -> list[Route]:
    """The hosted checkout page (and its 3-D Secure step), the portal, a payment's challenge."""

    def session_or_none(session_id: str) -> dict[str, Any] | None:
        obj = emu.state.objects.get(session_id)
        return obj if obj and obj.get("object") == "checkout.session" else None

    def checkout_page(
        session: dict[str, Any],
        *,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> HTMLResponse:
        items = emu.state.line_items.get(session["id"], [])
        return _render(
            "checkout.html",
            status,
            session=session,
            items=items,
            trial_days=trial_days(emu, session),
            card_needed=card_needed(session, trial_end(emu, session)),
            error=error,
            form=form or {},
            cards=TEST_CARDS,
            cancel_href=f"/c/cancel/{session['id']}",
        )

    async def show_checkout(request: Request) -> Response:
        session = session_or_none(request.path_params["session_id"])
        if session is None or session["ui_mode"] == "embedded_page":
            # An embedded session is paid only inside the app's page (with its secret).
            return _problem("Checkout session not found", "This payment link is not valid.", 404)
        if session["status"] == "complete":
            return _problem("Already paid", "This checkout session is complete.", 410)
        if session["status"] == "expired":
            return _problem("Session expired", "This checkout session has expired.", 410)
        return checkout_page(session)

    def pay_or_page(
        session: dict[str, Any],
        form: dict[str, str],
        page: Callable[..., HTMLResponse],
        *,
        action: str,
        keep: dict[str, str] | None = None,
        embedded: bool = False,
    ) -> dict[str, Any] | Response:
        """Pay the session with the form's card: the paid session, or the page to show
        instead (the 3-D Secure challenge posting back to ``action`` with the form and
        ``keep``, or ``page`` again with Stripe's error)."""
        outcome = form.pop("three_d_secure", None)
        try:
            return pay_session(
                emu,
                session["id"],
                card=form.get("card_number", ""),
                email=form.get("email") or None,
                name=form.get("name") or None,
                authenticated=None if outcome is None else outcome == "complete",
            )
        except ChallengeNeeded:
            amount = session["amount_total"] if session["mode"] == "payment" else None
            return _render(
                "challenge.html",
                what="payment" if amount else "card",
                amount=None if amount is None else format_amount(amount, session["currency"]),
                action=action,
                hidden={**form, **(keep or {})},
                embedded=embedded,
            )
        except StripeError as exc:
            return page(session, error=exc.message, status=exc.status, form=form)

    async def pay(request: Request) -> Response:
        session = session_or_none(request.path_params["session_id"])
        if session is None or session["ui_mode"] == "embedded_page":
            return _problem("Checkout session not found", "This payment link is not valid.", 404)
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        paid = pay_or_page(session, form, checkout_page, action=f"/c/pay/{session['id']}")
        if isinstance(paid, Response):
            return paid
        target = str(paid.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", paid["id"])
        return RedirectResponse(target, status_code=303)

    def embedded_or_none(session_id: str, secret: str | None) -> dict[str, Any] | None:
        """The embedded session this client secret opens (None for any other)."""
        session = session_or_none(session_id)
        if session is None or session["ui_mode"] != "embedded_page" or not secret:
            return None
        expected = str(session.get("client_secret") or "")
        return session if hmac.compare_digest(expected.encode(), secret.encode()) else None

    def embedded_page(
        session: dict[str, Any], *, error: str | None = None, status: int = 200,
        form: dict[str, str] | None = None,
    ) -> HTMLResponse:  # fmt: skip
        items = emu.state.line_items.get(session["id"], [])
        return _render(
            "checkout.html",
            status,
            session=session,
            items=items,
            trial_days=trial_days(emu, session),
            card_needed=card_needed(session, trial_end(emu, session)),
            error=error,
            form=form or {},
            cards=TEST_CARDS,
            embedded=True,
            action=f"/c/embed/{session['id']}",
            client_secret=session["client_secret"],
        )

    async def show_embedded(request: Request) -> Response:
        """Embedded Checkout: the page Stripe.js (the stand-in) puts in the app's iframe."""
        session = embedded_or_none(
            request.path_params["session_id"], request.query_params.get("client_secret")
        )
        if session is None:
            return _problem("Checkout session not found", "This checkout is not valid.", 404)
        if session["status"] != "open":
            return _problem(
                "Checkout closed", f"This checkout session is {session['status']}.", 410
            )
        return embedded_page(session)

    async def pay_embedded(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        secret = form.pop("client_secret", None)
        session = embedded_or_none(request.path_params["session_id"], secret)
        if session is None:
            return _problem("Checkout session not found", "This checkout is not valid.", 404)
        paid = pay_or_page(
            session,
            form,
            embedded_page,
            action=f"/c/embed/{session['id']}",
            keep={"client_secret": str(secret)},
            embedded=True,
        )
        if isinstance(paid, Response):
            return paid
        target = str(paid.get("return_url") or "/").replace("{CHECKOUT_SESSION_ID}", paid["id"])
        # Stripe.js (the stand-in) in the app's page takes the buyer there.
        return _render("embedded_done.html", return_url=target, embedded=True)

    async def cancel(request: Request) -> Response:
        session = session_or_none(request.path_params["session_id"])
        if session is None:
            return _problem("Checkout session not found", "This payment link is not valid.", 404)
        return RedirectResponse(session.get("cancel_url") or "/", status_code=303)

    def portal_or_none(portal_id: str) -> dict[str, Any] | None:
        obj = emu.state.objects.get(portal_id)
        return obj if obj and obj.get("object") == "billing_portal.session" else None

    async def show_portal(request: Request) -> Response:
        portal = portal_or_none(request.path_params["portal_id"])
        if portal is None:
            return _problem(
                "Portal session not found", "This billing portal link is not valid.", 404
            )
        return _portal_page(emu, portal, request.query_params.get("done"))

    async def portal_change(request: Request) -> Response:
        portal = portal_or_none(request.path_params["portal_id"])
        if portal is None:
            return _problem(
                "Portal session not found", "This billing portal link is not valid.", 404
            )
        form = dict(parse_qsl((await request.body()).decode()))
        sub = emu.state.objects.get(form.get("subscription", ""))
        if not sub or sub.get("object") != "subscription" or sub["customer"] != portal["customer"]:
            return _problem(
                "Subscription not found", "That subscription is not this customer's.", 404
            )
        try:
            with emu.state.locked(), emu.state.acting_as(sub.get("_account")):
                if request.url.path.endswith("/resume"):
                    resume_subscription(emu, sub)
                else:
                    cancel_subscription(emu, sub, at_period_end=form.get("when") != "now")
                emu.settle()
        except StripeError as exc:
            return _problem("Cannot change this subscription", exc.message, exc.status)
        return RedirectResponse(f"/p/session/{portal['id']}?done={sub['id']}", status_code=303)

    def intent_or_none(intent_id: str) -> dict[str, Any] | None:
        obj = emu.state.objects.get(intent_id)
        return obj if obj and obj.get("object") == "payment_intent" else None

    async def show_challenge(request: Request) -> Response:
        intent = intent_or_none(request.path_params["intent_id"])
        if intent is None or intent["status"] != "requires_action":
            return _problem("Nothing to authenticate", "This payment asks for no challenge.", 404)
        return _render(
            "challenge.html",
            what="payment",
            amount=format_amount(intent["amount"], intent["currency"]),
            action=f"/3ds/{intent['id']}",
            hidden={},
        )

    async def answer_challenge(request: Request) -> Response:
        intent = intent_or_none(request.path_params["intent_id"])
        if intent is None or intent["status"] != "requires_action":
            return _problem("Nothing to authenticate", "This payment asks for no challenge.", 404)
        form = dict(parse_qsl((await request.body()).decode()))
        with emu.state.locked(), emu.state.acting_as(intent.get("_account")):
            return_url = intent.get("_return_url")
            authenticate(emu, intent, passed=form.get("three_d_secure") == "complete")
            emu.settle()
        status = "succeeded" if intent["status"] in ("succeeded", "requires_capture") else "failed"
        if not return_url:
            return _problem(
                "Authentication " + ("complete" if status == "succeeded" else "failed"),
                f"The payment is {intent['status']}. You can close this page.",
                200,
            )
        separator = "&" if "?" in return_url else "?"
        query = urlencode(
            {
                "payment_intent": intent["id"],
                "payment_intent_client_secret": intent["client_secret"],
                "redirect_status": status,
            }
        )
        return RedirectResponse(f"{return_url}{separator}{query}", status_code=303)

    async def index(request: Request) -> Response:
        return _render("index.html", cards=TEST_CARDS, base_url=emu.base_url)

    return [
        Route("/", index, methods=["GET"]),
        Route("/c/pay/{session_id}", show_checkout, methods=["GET"]),
        Route("/c/pay/{session_id}", pay, methods=["POST"]),
        Route("/c/cancel/{session_id}", cancel, methods=["GET"]),
        Route("/c/embed/{session_id}", show_embedded, methods=["GET"]),
        Route("/c/embed/{session_id}", pay_embedded, methods=["POST"]),
        Route("/p/session/{portal_id}", show_portal, methods=["GET"]),
        Route("/p/session/{portal_id}/cancel", portal_change, methods=["POST"]),
        Route("/p/session/{portal_id}/resume", portal_change, methods=["POST"]),
        Route("/3ds/{intent_id}", show_challenge, methods=["GET"]),
        Route("/3ds/{intent_id}", answer_challenge, methods=["POST"]),
    ]


def _portal_page(emu: Emulator, portal: dict[str, Any], done: str | None) -> HTMLResponse:
    customer = emu.state.objects.get(portal["customer"], {})
    subscriptions = []
    with emu.state.acting_as(portal.get("_account")):
        listed = emu.state.all("subscription")
    for sub in listed:
        if sub["customer"] != portal["customer"] or sub["status"] == "canceled":
            continue
        item = sub["items"]["data"][0]
        product = emu.state.objects.get(item["price"]["product"], {})
        subscriptions.append(
            {"sub": sub, "item": item, "product": product, "period_end": period_end(sub)}
        )
    return _render(
        "portal.html", portal=portal, customer=customer, subscriptions=subscriptions, done=done
    )
