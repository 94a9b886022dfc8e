"""The shop's endpoints as plain Starlette handlers: request in, response out, no decisions.

Every decision is the core's (``stripekit.shop._views``); these only read the
request (JSON or form, ``Accept``) and write the answer (JSON, a page, a 303).
The FastAPI router and the Starlette routes both call them.

Connect: the endpoints that act in an account take ``where``, what the app's
resolver of the request's connected account returned (None without one); the
core checks it (``resolved_account``) before anything is made or shown.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from stripekit import StripeKit
from stripekit._connect import resolved_account
from stripekit._errors import (
    CheckoutError,
    ConfigurationError,
    StripeAPIError,
    StripekitError,
)
from stripekit.billing._account import (
    ACCOUNT_ACTIONS,
    NOTICES,
    AccountAction,
    ChangeQuote,
    aaccount,
    apreview_for_page,
    arun_action,
)
from stripekit.shop._origin import cross_site_reason
from stripekit.shop._pages import Pages
from stripekit.shop._payment_pages import apayment_summary, astart_payment, payment_page
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

from ._webhook import read_body, webhook_response

if TYPE_CHECKING:
    from stripekit.billing._queries import Billing

__all__ = ["ROUTE_NAMES", "CsrfInput", "PageContext", "Shop"]

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
    "health": "stripekit_health",
    "metrics": "stripekit_metrics",
    "account": "stripekit_account",
    "checkout_embedded": "stripekit_checkout_embedded",
    "checkout_embedded_session": "stripekit_checkout_embedded_session",
    "checkout_return": "stripekit_checkout_return",
    "pay": "stripekit_pay",
    "pay_intent": "stripekit_pay_intent",
    "pay_return": "stripekit_pay_return",
    **{
        f"account_{a.replace('-', '_')}": f"stripekit_account_{a.replace('-', '_')}"
        for a in ACCOUNT_ACTIONS
    },
}
"""Each route's name (``request.url_for``); pages get their paths as ``urls.<key>``."""


CsrfInput = Callable[[Request], str]
"""Gives the hidden form field of the app's CSRF token library for this request (HTML)."""

PageContext = Callable[[Request], Mapping[str, Any]]
"""Gives more template variables for this request (the signed-in user for the header...)."""


class Shop:
    """The kit and the pages, and one method per endpoint."""

    def __init__(
        self,
        kit: StripeKit,
        pages: Pages,
        csrf_input: CsrfInput | None = None,
        page_context: PageContext | None = None,
        account_source: str = "connected_account",
    ) -> None:
        self.kit = kit
        self.pages = pages
        self.csrf_input = csrf_input
        self.page_context = page_context
        self.account_source = account_source
        """The app's resolver of the request's connected account, as errors name it."""

    # -- helpers ---------------------------------------------------------------------------

    def urls(self, request: Request) -> dict[str, str]:
        """The shop's route URLs, wherever the app mounted them ("" for a route not there).

        The account routes are left out while the billing state is off: there is no
        account page to link to.
        """
        found: dict[str, str] = {}
        for key, name in ROUTE_NAMES.items():
            if key.startswith("account") and not self.kit.billing_on:
                found[key] = ""
                continue
            try:
                found[key] = str(request.url_for(name).path)
            except Exception:
                found[key] = ""
        return found

    def _context(self, request: Request) -> dict[str, Any]:
        context: dict[str, Any] = dict(self.page_context(request)) if self.page_context else {}
        if self.csrf_input is not None:
            # The app's own token field, markup it trusts: into every shop form.
            context["csrf_input"] = Markup(self.csrf_input(request))  # noqa: S704
        return context

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.pages.render(
            name, urls=self.urls(request), **{**self._context(request), **context}
        )
        return HTMLResponse(html, status_code=status)

    def error_page(self, request: Request, status: int, message: str) -> HTMLResponse:
        html = self.pages.error(status, message, urls=self.urls(request), **self._context(request))
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, exc: StripekitError, *, as_json: bool) -> Response:
        status, message = error_status(exc)
        if isinstance(exc, StripeAPIError):
            logger.error("Stripe error (request %s): %s", exc.request_id, exc)
        elif status >= 500:
            logger.error("shop error: %s", exc)
        if as_json:
            return JSONResponse({"error": message}, status_code=status)
        return self.error_page(request, status, message)

    def _account(self, where: object) -> str | None:
        """The connected account the app's resolver says the request is for (None: the
        platform's own), checked: anything else is a ConfigurationError (500)."""
        return resolved_account(where, source=self.account_source)

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
        return self.error_page(request, 403, message)

    # -- endpoints -------------------------------------------------------------------------

    async def checkout(
        self, request: Request, buyer: Buyer | None, where: object = None
    ) -> Response:
        """POST /checkout: JSON ``{id, url}`` for JSON clients, a 303 to Checkout for forms."""
        content_type = request.headers.get("content-type", "")
        is_json = content_type.startswith("application/json")
        as_json = is_json or _wants_json(request)
        refused = self._cross_site(request, as_json)
        if refused is not None:
            return refused
        try:
            data = await _read(request, is_json, content_type)
        except ValueError as exc:
            return self.error(request, _BadBody(str(exc)), as_json=as_json)
        try:
            account = self._account(where)
            order = CheckoutRequest.parse(data, self.kit.catalog)
            session = await astart_checkout(self.kit, order, buyer, stripe_account=account)
        except StripekitError as exc:
            return self.error(request, exc, as_json=as_json)
        answer: Response
        if as_json:
            answer = JSONResponse({"id": session.id, "url": session.url})
        else:
            answer = RedirectResponse(str(session.url), status_code=303)
        self._remember(request, answer, buyer, session.id)
        return answer

    def _remember(self, request: Request, answer: Response, buyer: Buyer | None, made: str) -> None:
        """For an anonymous buyer: this browser started ``made``, so only it may see the
        order's details on the success or return page."""
        if not is_anonymous(buyer):
            return
        value = remember_checkout_cookie(self.kit, request.cookies.get(CHECKOUT_COOKIE), made)
        answer.set_cookie(
            CHECKOUT_COOKIE,
            value,
            max_age=CHECKOUT_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    async def _client_secret(
        self, request: Request, buyer: Buyer | None, flow: str, where: object
    ) -> Response:
        """POST a product key and a quantity (JSON or form): ``{id, client_secret}`` of a new
        embedded Checkout Session or PaymentIntent, priced by the catalog."""
        content_type = request.headers.get("content-type", "")
        is_json = content_type.startswith("application/json")
        refused = self._cross_site(request, True)
        if refused is not None:
            return refused
        try:
            data = await _read(request, is_json, content_type)
        except ValueError as exc:
            return self.error(request, _BadBody(str(exc)), as_json=True)
        try:
            account = self._account(where)
            # Only product, price and quantity are read: an amount sent along is ignored.
            order = CheckoutRequest.parse(data, self.kit.catalog)
            if flow == "embedded":
                made: Any = await astart_checkout(
                    self.kit, order, buyer, ui_mode="embedded_page", stripe_account=account
                )
            else:
                made = await astart_payment(self.kit, order, buyer, stripe_account=account)
        except StripekitError as exc:
            return self.error(request, exc, as_json=True)
        answer = JSONResponse({"id": made.id, "client_secret": made.client_secret})
        self._remember(request, answer, buyer, made.id)
        return answer

    async def embedded_session(
        self, request: Request, buyer: Buyer | None, where: object = None
    ) -> Response:
        """POST /checkout/embedded: a Checkout Session to mount in the page (its client secret)."""
        return await self._client_secret(request, buyer, "embedded", where)

    async def pay_intent(
        self, request: Request, buyer: Buyer | None, where: object = None
    ) -> Response:
        """POST /pay/intent: a PaymentIntent for the Payment Element (its client secret)."""
        return await self._client_secret(request, buyer, "element", where)

    async def embedded_page(self, request: Request, where: object = None) -> Response:
        """GET /checkout/embedded?product=...: embedded Checkout, mounted in the shop's page."""
        try:
            page = payment_page(
                self.kit, request.query_params, flow="embedded",
                stripe_account=self._account(where),
            )  # fmt: skip
        except StripekitError as exc:
            return self.error(request, exc, as_json=False)
        return self.page(request, "embedded_checkout.html", payment=page)

    async def pay_page(self, request: Request, where: object = None) -> Response:
        """GET /pay?product=...: the Payment Element, for a one-time product."""
        try:
            page = payment_page(
                self.kit, request.query_params, flow="element",
                stripe_account=self._account(where),
            )  # fmt: skip
        except StripekitError as exc:
            return self.error(request, exc, as_json=False)
        return self.page(request, "payment.html", payment=page)

    async def pay_return(
        self, request: Request, buyer: Buyer | None, where: object = None
    ) -> Response:
        """GET /pay/return?payment_intent=...: the payment, read from Stripe; details for
        its buyer only."""
        try:
            summary = await apayment_summary(
                self.kit,
                request.query_params.get("payment_intent"),
                viewer=buyer,
                cookie=request.cookies.get(CHECKOUT_COOKIE),
                stripe_account=self._account(where),
            )
        except StripekitError as exc:
            return self.error(request, exc, as_json=False)
        return self.page(request, "payment_return.html", payment=summary)

    async def success(
        self, request: Request, buyer: Buyer | None, where: object = None
    ) -> Response:
        """GET /success?session_id=...: whether it is paid, from Stripe; details for its buyer."""
        try:
            summary = await asummarize_session(
                self.kit,
                request.query_params.get("session_id"),
                viewer=buyer,
                cookie=request.cookies.get(CHECKOUT_COOKIE),
                stripe_account=self._account(where),
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

    async def portal(self, request: Request, buyer: Buyer | None, where: object = None) -> Response:
        """POST /portal: a 303 to the billing portal of the current customer (of the request's
        connected account, Connect)."""
        as_json = _wants_json(request)
        refused = self._cross_site(request, as_json)
        if refused is not None:
            return refused
        try:
            account = self._account(where)
            customer = buyer.customer if buyer is not None else None
            if customer is None and buyer is not None and buyer.reference:
                # The customer the billing state linked to this user at their checkout.
                customer = await self.kit.alinked_customer(buyer.reference, account)
            if customer is None:
                message = (
                    "the billing portal opens once you have bought something"
                    if buyer is not None and buyer.reference
                    else "sign in first: the billing portal needs a Stripe customer"
                )
                return self._sign_in_first(request, as_json, message)
            return_url = None
            if self.kit.settings.portal_return_url is None and self.kit.billing_on:
                return_url = self.urls(request)["account"] or None
            url = await self.kit.portal.acreate(
                customer, return_url=return_url, stripe_account=account
            )
        except StripekitError as exc:
            return self.error(request, exc, as_json=as_json)
        if as_json:
            return JSONResponse({"url": url})
        return RedirectResponse(url, status_code=303)

    async def account(
        self, request: Request, buyer: Buyer | None, where: object = None
    ) -> Response:
        """GET /account: the buyer's subscriptions, purchases and credits (JSON or the page),
        in the request's account (the platform's own, or its connected account's).

        ``?change=<sub>&plan=<key>`` shows what that plan change would bill, with the
        form that confirms it; ``?done=<action>`` the notice of an action just done.
        """
        as_json = _wants_json(request)
        user = buyer.reference if buyer is not None else None
        if not user:
            return self._sign_in_first(request, as_json, "sign in to see your account")
        query = request.query_params
        if as_json:
            try:
                account = self._account(where)
                found = await aaccount(self._billing(), self.kit.catalog, user, account=account)
            except StripekitError as exc:
                return self.error(request, exc, as_json=True)
            return JSONResponse(found.as_json())
        change = (query.get("change"), query.get("plan")) if query.get("change") else None
        return await self._account_page(request, user, change, query.get("done"), where)

    async def _account_page(
        self, request: Request, user: str, change: tuple[str | None, str | None] | None,
        done: str | None, where: object,
    ) -> Response:  # fmt: skip
        try:
            account = self._account(where)
            billing = self._billing()
            preview: ChangeQuote | None = None
            if change is not None:
                preview = await apreview_for_page(
                    billing, self.kit.catalog, user, change[0] or "", change[1] or "",
                    proration=self.kit.settings.plan_change_proration,
                    secret=self.kit.settings.require_secret_key(), account=account,
                )  # fmt: skip
            found = await aaccount(billing, self.kit.catalog, user, account=account)
        except StripekitError as exc:
            return self.error(request, exc, as_json=False)
        notice = NOTICES.get(done or "")
        return self.page(request, "account.html", account=found, notice=notice, preview=preview)

    async def account_action(
        self, request: Request, buyer: Buyer | None, name: str, where: object = None
    ) -> Response:
        """POST /account/<name>: JSON ``{subscription}`` (or ``{invoice, status}``, or the
        preview) for JSON clients; a 303 back to the account page for forms. It acts on the
        request's account's objects only (another account's id: 404)."""
        content_type = request.headers.get("content-type", "")
        is_json = content_type.startswith("application/json")
        as_json = is_json or _wants_json(request)
        refused = self._cross_site(request, as_json)
        if refused is not None:
            return refused
        user = buyer.reference if buyer is not None else None
        if not user:
            return self._sign_in_first(request, as_json, "sign in to manage your billing")
        try:
            data = await _read(request, is_json, content_type)
        except ValueError as exc:
            return self.error(request, _BadBody(str(exc)), as_json=as_json)
        account_url = self.urls(request)["account"]
        try:
            account = self._account(where)
            action = AccountAction.parse(name, data)
            if name == "preview-change" and not as_json:
                # A form asks to see the change first: the page, with the preview.
                change = (action.subscription, action.plan)
                return await self._account_page(request, user, change, None, account)
            settings = self.kit.settings
            result = await arun_action(
                self._billing(), action, user,
                proration=settings.plan_change_proration,
                secret=settings.require_secret_key(), catalog=self.kit.catalog,
                account=account,
            )  # fmt: skip
        except StripekitError as exc:
            return self.error(request, exc, as_json=as_json)
        if as_json:
            return JSONResponse(result.body)
        return RedirectResponse(f"{account_url}?done={result.notice}", status_code=303)

    def _billing(self) -> Billing:
        if not self.kit.billing_on:
            raise ConfigurationError(
                "the account page reads the billing state, which is off: set "
                "STRIPE_SECRET_KEY (and leave STRIPEKIT_BILLING unset or true)"
            )
        return self.kit.billing

    def _sign_in_first(self, request: Request, as_json: bool, message: str) -> Response:
        if as_json:
            return JSONResponse({"error": message}, status_code=401)
        return self.error_page(request, 401, message)

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
        """POST /webhook: the raw body, read once, to the core; its status and JSON back.

        FastAPI's route (Starlette's runs ``WebhookEndpoint``, the same without a Request)."""
        body = await read_body(request.receive, self.kit.settings.webhook_max_bytes)
        result = await self.kit.ahandle_webhook(body, request.headers)
        return webhook_response(result)

    async def health(self, request: Request) -> Response:
        """GET /health: 200 with the event store's counts, or 503 when it does not answer."""
        report = await self.kit.ahealth()
        return JSONResponse(report.body, status_code=report.status, headers=_NO_STORE)

    async def metrics(self, request: Request) -> Response:
        """GET /metrics: Prometheus metrics for the bearer of STRIPEKIT_METRICS_TOKEN."""
        from starlette.concurrency import run_in_threadpool

        # A scrape reads the store: in a worker thread, never on the loop.
        answer = await run_in_threadpool(
            self.kit.scrape_metrics, request.headers.get("authorization")
        )
        return Response(answer.body, answer.status, {**answer.headers, **_NO_STORE})


_NO_STORE = {"Cache-Control": "no-store"}


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


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
