"""The shop's views: Django requests into the core's calls, the core's results into responses.

Checkout and the account page's actions keep Django's CSRF protection (the
pages' forms carry the token); the webhook is ``csrf_exempt`` (Stripe signs it
instead) and reads ``request.body`` raw.

Connect: the views that act in an account ask ``account_for(request)`` (the
project's ``STRIPEKIT["CONNECTED_ACCOUNT"]``, checked by the core) which
account the request is for; without the setting, the platform's own.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stripekit._errors import (
    BillingError,
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
    preview_for_page,
    run_action,
)
from stripekit.billing._account import account as account_view
from stripekit.shop._pages import ERROR_TITLES
from stripekit.shop._payment_pages import payment_page, payment_summary, start_payment
from stripekit.shop._receipts import CHECKOUT_COOKIE, CHECKOUT_COOKIE_MAX_AGE
from stripekit.shop._views import (
    CheckoutRequest,
    error_status,
    is_anonymous,
    pricing,
    remember_checkout_cookie,
    start_checkout,
    summarize_session,
)

from .conf import account_for, app_option, buyer_for, get_kit

if TYPE_CHECKING:
    from stripekit.billing._queries import Billing

__all__ = [
    "account",
    "account_cancel",
    "account_change_plan",
    "account_preview_change",
    "account_resume",
    "account_retry",
    "cancel",
    "checkout",
    "checkout_embedded",
    "checkout_return",
    "config",
    "health",
    "metrics",
    "pay",
    "pay_intent",
    "pay_return",
    "portal",
    "pricing_page",
    "products",
    "success",
    "webhook",
]

logger = logging.getLogger("stripekit.django")


_ACCOUNT_URLS = ("account", *(f"account_{a.replace('-', '_')}" for a in ACCOUNT_ACTIONS))


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    from importlib.resources import files

    billing_on = get_kit().billing_on
    urls = {}
    for name in (
        "checkout", "pricing", "portal", "checkout_embedded", "pay", "pay_intent",
        *_ACCOUNT_URLS,
    ):  # fmt: skip
        if name.startswith("account") and not billing_on:
            urls[name] = ""  # no account page to link to while the billing state is off
            continue
        try:
            urls[name] = reverse(f"stripekit:{name}")
        except NoReverseMatch:
            urls[name] = ""
    return {
        "urls": urls,
        "shop_name": app_option("SHOP_NAME", "Shop"),
        "mode": get_kit().settings.mode,
        # One stylesheet for both integrations: the core's.
        "stripekit_css": files("stripekit").joinpath("templates/stripekit/style.css").read_text(),
        **extra,
    }


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.content_type == "application/json" or (
        "application/json" in accept and "text/html" not in accept
    )


def _error(request: HttpRequest, exc: StripekitError, as_json: bool) -> HttpResponse:
    status, message = error_status(exc)
    if isinstance(exc, StripeAPIError):
        logger.error("Stripe error (request %s): %s", exc.request_id, exc)
    elif status >= 500:
        # The buyer sees a generic message; what to fix goes to the log.
        logger.error("shop error: %s", exc)
    if as_json:
        return JsonResponse({"error": message}, status=status)
    return _error_page(request, status, message)


def _error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    title = ERROR_TITLES.get(status, "Something went wrong")
    context = _context(request, title=title, message=message)
    return render(request, "stripekit/error.html", context, status=status)


@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    """A Checkout Session for a product: JSON ``{id, url}``, or a 303 for a form post."""
    as_json = _wants_json(request)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return _error(request, CheckoutError("the body is not valid JSON"), as_json)
        if not isinstance(data, dict):
            return _error(request, CheckoutError("send a JSON object"), as_json)
    else:
        data = request.POST.dict()
    kit = get_kit()
    buyer = buyer_for(request)
    try:
        order = CheckoutRequest.parse(data, kit.catalog)
        session = start_checkout(kit, order, buyer, stripe_account=account_for(request))
    except StripekitError as exc:
        return _error(request, exc, as_json)
    answer: HttpResponse
    if as_json:
        answer = JsonResponse({"id": session.id, "url": session.url})
    else:
        answer = HttpResponseRedirect(str(session.url), status=303)
    if is_anonymous(buyer):
        # Only this browser may see the anonymous order's details on the success page.
        value = remember_checkout_cookie(kit, request.COOKIES.get(CHECKOUT_COOKIE), session.id)
        answer.set_cookie(
            CHECKOUT_COOKIE,
            value,
            max_age=CHECKOUT_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return answer


def _read_order(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise CheckoutError("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise CheckoutError("send a JSON object")
        return data
    return request.POST.dict()


def _remember(request: HttpRequest, answer: HttpResponse, made: str) -> None:
    """For an anonymous buyer: this browser started ``made`` (its details are its own)."""
    value = remember_checkout_cookie(get_kit(), request.COOKIES.get(CHECKOUT_COOKIE), made)
    answer.set_cookie(
        CHECKOUT_COOKIE,
        value,
        max_age=CHECKOUT_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def _client_secret(request: HttpRequest, flow: str) -> HttpResponse:
    """``{id, client_secret}`` of a new embedded session or PaymentIntent, priced by the
    catalog: only product, price and quantity are read from the request."""
    kit = get_kit()
    buyer = buyer_for(request)
    try:
        account = account_for(request)
        order = CheckoutRequest.parse(_read_order(request), kit.catalog)
        if flow == "embedded":
            made: Any = start_checkout(
                kit, order, buyer, ui_mode="embedded_page", stripe_account=account
            )
        else:
            made = start_payment(kit, order, buyer, stripe_account=account)
    except StripekitError as exc:
        return _error(request, exc, as_json=True)
    answer = JsonResponse({"id": made.id, "client_secret": made.client_secret})
    if is_anonymous(buyer):
        _remember(request, answer, made.id)
    return answer


def _payment_page(request: HttpRequest, flow: str, template: str) -> HttpResponse:
    try:
        page = payment_page(
            get_kit(), request.GET.dict(), flow=flow,  # type: ignore[arg-type]
            stripe_account=account_for(request),
        )  # fmt: skip
    except StripekitError as exc:
        return _error(request, exc, as_json=False)
    urls = _context(request)["urls"]
    # For the page's script, through json_script: the order, never an amount.
    script = {
        "publishable_key": page.publishable_key,
        "order": {"product": page.product, "price": page.price, "quantity": page.quantity},
        "session_url": urls["checkout_embedded"],
        "intent_url": urls["pay_intent"],
        "return_url": page.return_url,
        # Connect: Stripe.js is loaded for the connected account the payment is made in.
        "stripe_account": page.stripe_account,
    }
    return render(request, template, _context(request, payment=page, script=script))


@require_http_methods(["GET", "POST"])
def checkout_embedded(request: HttpRequest) -> HttpResponse:
    """GET: embedded Checkout in the shop's page (``?product=&price=&quantity=``).
    POST (its script, with the CSRF token): the new session's ``{id, client_secret}``."""
    if request.method == "POST":
        return _client_secret(request, "embedded")
    return _payment_page(request, "embedded", "stripekit/embedded_checkout.html")


@require_GET
def pay(request: HttpRequest) -> HttpResponse:
    """The Payment Element in the shop's page, for a one-time product."""
    return _payment_page(request, "element", "stripekit/payment.html")


@require_POST
def pay_intent(request: HttpRequest) -> HttpResponse:
    """A PaymentIntent for the Payment Element: ``{id, client_secret}``; the catalog's amount."""
    return _client_secret(request, "element")


@require_GET
def pay_return(request: HttpRequest) -> HttpResponse:
    """The payment as Stripe has it (``?payment_intent=pi_...``); details for its buyer only."""
    try:
        summary = payment_summary(
            get_kit(),
            request.GET.get("payment_intent"),
            viewer=buyer_for(request),
            cookie=request.COOKIES.get(CHECKOUT_COOKIE),
            stripe_account=account_for(request),
        )
    except StripekitError as exc:
        return _error(request, exc, as_json=False)
    return render(request, "stripekit/payment_return.html", _context(request, payment=summary))


@require_GET
def success(request: HttpRequest) -> HttpResponse:
    """Whether the session is paid, read from Stripe; what was bought only for its buyer."""
    try:
        summary = summarize_session(
            get_kit(),
            request.GET.get("session_id"),
            viewer=buyer_for(request),
            cookie=request.COOKIES.get(CHECKOUT_COOKIE),
            stripe_account=account_for(request),
        )
    except StripekitError as exc:
        return _error(request, exc, as_json=False)
    return render(request, "stripekit/success.html", _context(request, session=summary))


checkout_return = success
"""Embedded Checkout's return page: the success page (it reads the session from Stripe)."""


@require_GET
def cancel(request: HttpRequest) -> HttpResponse:
    """Nothing was charged; a way back to pricing."""
    return render(request, "stripekit/cancel.html", _context(request))


@require_GET
def pricing_page(request: HttpRequest) -> HttpResponse:
    """The catalog with a buy button (a CSRF-protected form) per price."""
    try:
        products_ = pricing(get_kit())
    except StripekitError as exc:
        return _error(request, exc, as_json=False)
    return render(request, "stripekit/pricing.html", _context(request, products=products_))


@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    """A 303 to the current customer's billing portal (the buyer's ``customer``, or the one
    the billing state linked to their reference, in the request's connected account); it
    returns to the account page."""
    as_json = _wants_json(request)
    buyer = buyer_for(request)
    kit = get_kit()
    try:
        account = account_for(request)
        customer = buyer.customer if buyer is not None else None
        if customer is None and buyer is not None and buyer.reference:
            customer = kit.linked_customer(buyer.reference, account)
        if customer is None:
            message = (
                "the billing portal opens once you have bought something"
                if buyer is not None and buyer.reference
                else "sign in first: the billing portal needs a Stripe customer"
            )
            return _sign_in_first(request, as_json, message)
        return_url = None
        if kit.settings.portal_return_url is None and kit.billing_on:
            return_url = reverse("stripekit:account")
        url = kit.portal.create(customer, return_url=return_url, stripe_account=account)
    except StripekitError as exc:
        return _error(request, exc, as_json)
    if as_json:
        return JsonResponse({"url": url})
    return HttpResponseRedirect(url, status=303)


@require_GET
def account(request: HttpRequest) -> HttpResponse:
    """The buyer's subscriptions, purchases and credits (JSON or the page), in the request's
    account (the platform's own, or its connected account's).

    ``?change=<sub>&plan=<key>`` shows what that plan change would bill, with the form
    that confirms it; ``?done=<action>`` the notice of an action just done.
    """
    as_json = _wants_json(request)
    buyer = buyer_for(request)
    user = buyer.reference if buyer is not None else None
    if not user:
        return _sign_in_first(request, as_json, "sign in to see your account")
    if as_json:
        kit = get_kit()
        try:
            found = account_view(_billing(), kit.catalog, user, account=account_for(request))
        except StripekitError as exc:
            return _error(request, exc, as_json=True)
        return JsonResponse(found.as_json())
    change = request.GET.get("change")
    wanted = (change, request.GET.get("plan")) if change else None
    return _account_page(request, user, wanted, request.GET.get("done"))


def _account_page(
    request: HttpRequest, user: str, change: tuple[str | None, str | None] | None,
    done: str | None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    kit = get_kit()
    try:
        account = account_for(request)
        billing = _billing()
        preview: ChangeQuote | None = None
        if change is not None:
            preview = preview_for_page(
                billing, kit.catalog, user, change[0] or "", change[1] or "",
                proration=kit.settings.plan_change_proration,
                secret=kit.settings.require_secret_key(), account=account,
            )  # fmt: skip
        found = account_view(billing, kit.catalog, user, account=account)
    except StripekitError as exc:
        return _error(request, exc, as_json=False)
    context = _context(request, account=found, notice=NOTICES.get(done or ""), preview=preview)
    return render(request, "stripekit/account.html", context, status=status)


def _account_action(name: str) -> Callable[[HttpRequest], HttpResponse]:
    def act(request: HttpRequest) -> HttpResponse:
        as_json = _wants_json(request)
        buyer = buyer_for(request)
        user = buyer.reference if buyer is not None else None
        if not user:
            return _sign_in_first(request, as_json, "sign in to manage your billing")
        data = _body(request)
        if data is None:
            return _error(request, BillingError("send a JSON object"), as_json)
        kit = get_kit()
        try:
            account = account_for(request)
            action = AccountAction.parse(name, data)
            if name == "preview-change" and not as_json:
                # A form asks to see the change first: the page, with the preview.
                return _account_page(request, user, (action.subscription, action.plan), None)
            result = run_action(
                _billing(), action, user,
                proration=kit.settings.plan_change_proration,
                secret=kit.settings.require_secret_key(), catalog=kit.catalog,
                account=account,
            )  # fmt: skip
        except StripekitError as exc:
            return _error(request, exc, as_json)
        if as_json:
            return JsonResponse(result.body)
        return HttpResponseRedirect(
            f"{reverse('stripekit:account')}?done={result.notice}", status=303
        )

    act.__name__ = act.__qualname__ = f"account_{name.replace('-', '_')}"
    act.__doc__ = (
        f"POST /account/{name}: the account page's {name} action, as the buyer, on the "
        "request's account's objects only."
    )
    return require_POST(act)


account_cancel = _account_action("cancel")
account_resume = _account_action("resume")
account_change_plan = _account_action("change-plan")
account_preview_change = _account_action("preview-change")
account_retry = _account_action("retry")


def _billing() -> Billing:
    kit = get_kit()
    if not kit.billing_on:
        raise ConfigurationError(
            "the account page reads the billing state, which is off: set "
            "STRIPEKIT['SECRET_KEY'] (and leave STRIPEKIT['BILLING'] unset or true)"
        )
    return kit.billing


def _sign_in_first(request: HttpRequest, as_json: bool, message: str) -> HttpResponse:
    if as_json:
        return JsonResponse({"error": message}, status=401)
    return _error_page(request, 401, message)


def _body(request: HttpRequest) -> dict[str, Any] | None:
    if request.content_type != "application/json":
        return request.POST.dict()
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """The catalog as JSON, for single-page front ends."""
    try:
        found = pricing(get_kit())
    except StripekitError as exc:
        return _error(request, exc, as_json=True)
    return JsonResponse([dataclasses.asdict(p) for p in found], safe=False)


@require_GET
def config(request: HttpRequest) -> HttpResponse:
    """What a browser may know: the publishable key, never a secret."""
    settings = get_kit().settings
    return JsonResponse({"publishable_key": settings.publishable_key, "mode": settings.mode})


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """200 with the event store's counts (no event ids, no errors), or 503 when the store
    does not answer: for load balancers and uptime checks, which call it unauthenticated."""
    report = get_kit().health()
    response = JsonResponse(report.body, status=report.status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for the bearer of ``STRIPEKIT["METRICS_TOKEN"]`` only (404
    while none is set)."""
    answer = get_kit().scrape_metrics(request.headers.get("Authorization"))
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook: the raw body to the core; its status and JSON back."""
    result = get_kit().handle_webhook(request.body, request.headers)
    return JsonResponse(result.body, status=result.status)
