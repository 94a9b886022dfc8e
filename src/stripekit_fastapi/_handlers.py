"""The shop's endpoints as plain Starlette handlers: request in, response out, no decisions.

Every decision is the core's (``stripekit.shop._views``); these only read the
request (JSON or form, ``Accept``) and write the answer (JSON, a page, a 303).
The FastAPI router and the Starlette routes both call them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from stripekit import StripeKit
from stripekit._errors import CheckoutError, StripeAPIError, StripekitError
from stripekit.shop._origin import cross_site_reason
from stripekit.shop._pages import Pages
from stripekit.shop._receipts import CHECKOUT_COOKIE, CHECKOUT_COOKIE_MAX_AGE
from stripekit.shop._views import (
    Buyer,
    CheckoutRequest,
    astart_checkout,
    asummarize_session,
    error_status,
    is_anonymous,
    pricing,
    remember_checkout_cookie,
)

__all__ = ["ROUTE_NAMES", "CsrfInput", "Shop"]

logger = logging.getLogger("stripekit.fastapi")

ROUTE_NAMES = {
    "checkout": "stripekit_checkout",
    "success": "stripekit_success",
    "cancel": "stripekit_cancel",
    "pricing": "stripekit_pricing",
    "portal": "stripekit_portal",
    "products": "stripekit_products",
    "config": "stripekit_config",
    "webhook": "stripekit_webhook",
}


CsrfInput = Callable[[Request], str]
"""Gives the hidden form field of the app's CSRF token library for this request (HTML)."""


class Shop:
    """The kit and the pages, and one method per endpoint."""

    def __init__(self, kit: StripeKit, pages: Pages, csrf_input: CsrfInput | None = None) -> None:
        self.kit = kit
        self.pages = pages
        self.csrf_input = csrf_input

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def urls(request: Request) -> dict[str, str]:
        """The shop's route URLs, wherever the app mounted them."""
        found: dict[str, str] = {}
        for key, name in ROUTE_NAMES.items():
            try:
                found[key] = str(request.url_for(name).path)
            except Exception:
                found[key] = ""
        return found

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        if self.csrf_input is not None:
            # The app's own token field, markup it trusts: into every shop form.
            context["csrf_input"] = Markup(self.csrf_input(request))  # noqa: S704
        html = self.pages.render(name, urls=self.urls(request), **context)
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, exc: StripekitError, *, as_json: bool) -> Response:
        status, message = error_status(exc)
        if isinstance(exc, StripeAPIError):
            logger.error("Stripe error (request %s): %s", exc.request_id, exc)
        elif status >= 500:
            logger.error("shop error: %s", exc)
        if as_json:
            return JSONResponse({"error": message}, status_code=status)
        html = self.pages.error(status, message, urls=self.urls(request))
        return HTMLResponse(html, status_code=status)

    def _cross_site(self, request: Request, as_json: bool) -> Response | None:
        """A 403 for a POST a browser sent from another site (the core's Fetch Metadata rule).

        A page elsewhere could otherwise make a visitor's browser start a checkout
        or open their portal with the visitor's cookies.
        """
        reason = cross_site_reason(
            request.method,
            request.headers,
            host=request.headers.get("host"),
            trusted=self.kit.settings.own_origins,
        )
        if reason is None:
            return None
        message = "this form may only be posted from this site"
        logger.warning("refused a cross-site POST to %s: %s", request.url.path, reason)
        if as_json:
            return JSONResponse({"error": message}, status_code=403)
        html = self.pages.error(403, message, urls=self.urls(request))
        return HTMLResponse(html, status_code=403)

    # -- endpoints -------------------------------------------------------------------------

    async def checkout(self, request: Request, buyer: Buyer | None) -> Response:
        """POST /checkout: JSON ``{id, url}`` for JSON clients, a 303 to Checkout for forms."""
        content_type = request.headers.get("content-type", "")
        is_json = content_type.startswith("application/json")
        accept = request.headers.get("accept", "")
        as_json = is_json or ("application/json" in accept and "text/html" not in accept)
        refused = self._cross_site(request, as_json)
        if refused is not None:
            return refused
        try:
            data = await _read(request, is_json, content_type)
        except ValueError as exc:
            return self.error(request, _BadBody(str(exc)), as_json=as_json)
        try:
            order = CheckoutRequest.parse(data, self.kit.catalog)
            session = await astart_checkout(self.kit, order, buyer)
        except StripekitError as exc:
            return self.error(request, exc, as_json=as_json)
        answer: Response
        if as_json:
            answer = JSONResponse({"id": session.id, "url": session.url})
        else:
            answer = RedirectResponse(str(session.url), status_code=303)
        if is_anonymous(buyer):
            # Only this browser may see the anonymous order's details on the success page.
            value = remember_checkout_cookie(
                self.kit, request.cookies.get(CHECKOUT_COOKIE), session.id
            )
            answer.set_cookie(
                CHECKOUT_COOKIE,
                value,
                max_age=CHECKOUT_COOKIE_MAX_AGE,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return answer

    async def success(self, request: Request, buyer: Buyer | None) -> Response:
        """GET /success?session_id=...: whether it is paid, from Stripe; details for its buyer."""
        try:
            summary = await asummarize_session(
                self.kit,
                request.query_params.get("session_id"),
                viewer=buyer,
                cookie=request.cookies.get(CHECKOUT_COOKIE),
            )
        except StripekitError as exc:
            return self.error(request, exc, as_json=False)
        return self.page(request, "success.html", session=summary)

    async def cancel(self, request: Request) -> Response:
        """GET /cancel: nothing was charged; a way back to pricing."""
        return self.page(request, "cancel.html")

    async def pricing_page(self, request: Request) -> Response:
        """GET /pricing: the catalog with a buy button per price."""
        try:
            products = pricing(self.kit)
        except StripekitError as exc:
            return self.error(request, exc, as_json=False)
        return self.page(request, "pricing.html", products=products)

    async def portal(self, request: Request, buyer: Buyer | None) -> Response:
        """POST /portal: a 303 to the billing portal of the current customer."""
        accept = request.headers.get("accept", "")
        as_json = "application/json" in accept and "text/html" not in accept
        refused = self._cross_site(request, as_json)
        if refused is not None:
            return refused
        if buyer is None or buyer.customer is None:
            status = 401
            message = "sign in first: the billing portal needs a Stripe customer"
            if as_json:
                return JSONResponse({"error": message}, status_code=status)
            html = self.pages.error(status, message, urls=self.urls(request))
            return HTMLResponse(html, status_code=status)
        try:
            url = await self.kit.portal.acreate(buyer.customer)
        except StripekitError as exc:
            return self.error(request, exc, as_json=as_json)
        if as_json:
            return JSONResponse({"url": url})
        return RedirectResponse(url, status_code=303)

    async def products(self, request: Request) -> Response:
        """GET /products: the catalog as JSON, for single-page front ends."""
        try:
            products = pricing(self.kit)
        except StripekitError as exc:
            return self.error(request, exc, as_json=True)
        return JSONResponse([dataclasses.asdict(p) for p in products])

    async def config(self, request: Request) -> Response:
        """GET /config: what a browser may know (the publishable key), never a secret."""
        settings = self.kit.settings
        return JSONResponse({"publishable_key": settings.publishable_key, "mode": settings.mode})

    async def webhook(self, request: Request) -> Response:
        """POST /webhook: the raw body, read once, to the core; its status and JSON back."""
        limit = self.kit.settings.webhook_max_bytes
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                # Stop reading: the core answers 413 for anything over the limit.
                break
        result = await self.kit.ahandle_webhook(bytes(body), request.headers)
        return JSONResponse(result.body, status_code=result.status)


class _BadBody(CheckoutError):
    """A checkout body that is not JSON or a form."""


async def _read(request: Request, is_json: bool, content_type: str) -> dict[str, Any]:
    raw = await request.body()
    if is_json:
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValueError("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError('send a JSON object: {"product": "..."}')
        return data
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return dict(parse_qsl(raw.decode("utf-8", errors="replace")))
