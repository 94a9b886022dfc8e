"""The shop's views: Django requests into the core's calls, the core's results into responses.

Checkout keeps Django's CSRF protection (the pricing page's forms carry the
token); the webhook is ``csrf_exempt`` (Stripe signs it instead) and reads
``request.body`` raw.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from stripekit._errors import CheckoutError, StripeAPIError, StripekitError
from stripekit.shop._pages import ERROR_TITLES
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

from .conf import app_option, buyer_for, get_kit

__all__ = [
    "cancel",
    "checkout",
    "config",
    "portal",
    "pricing_page",
    "products",
    "success",
    "webhook",
]

logger = logging.getLogger("stripekit.django")


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    from importlib.resources import files

    urls = {}
    for name in ("checkout", "pricing", "portal"):
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
        session = start_checkout(kit, CheckoutRequest.parse(data, kit.catalog), buyer)
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


@require_GET
def success(request: HttpRequest) -> HttpResponse:
    """Whether the session is paid, read from Stripe; what was bought only for its buyer."""
    try:
        summary = summarize_session(
            get_kit(),
            request.GET.get("session_id"),
            viewer=buyer_for(request),
            cookie=request.COOKIES.get(CHECKOUT_COOKIE),
        )
    except StripekitError as exc:
        return _error(request, exc, as_json=False)
    return render(request, "stripekit/success.html", _context(request, session=summary))


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
    """A 303 to the current customer's billing portal."""
    as_json = _wants_json(request)
    buyer = buyer_for(request)
    if buyer is None or buyer.customer is None:
        message = "sign in first: the billing portal needs a Stripe customer"
        if as_json:
            return JsonResponse({"error": message}, status=401)
        return _error_page(request, 401, message)
    try:
        url = get_kit().portal.create(buyer.customer)
    except StripekitError as exc:
        return _error(request, exc, as_json)
    if as_json:
        return JsonResponse({"url": url})
    return HttpResponseRedirect(url, status=303)


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


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook: the raw body to the core; its status and JSON back."""
    result = get_kit().handle_webhook(request.body, request.headers)
    return JsonResponse(result.body, status=result.status)
