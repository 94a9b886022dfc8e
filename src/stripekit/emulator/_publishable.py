"""Publishable keys: what a browser may do with a ``pk_test_`` key, as on Stripe.

A publishable key is public (it is in every payment page), so on its own it
opens nothing: it may create an unattached card payment method, and read or
confirm the one PaymentIntent, SetupIntent or Checkout Session whose
``client_secret`` comes with it (which only the app's server handed out).
Everything else is Stripe's 401 ("This API call cannot be made with a
publishable API key..."); a secret that does not match is Stripe's 400. What a
publishable key reads back is the part of the object Stripe shows it: no
customer, no metadata.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._core import Emulator
from ._wire import StripeError, missing

__all__ = ["PUBLISHABLE_REFUSED", "client_side"]

PUBLISHABLE_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)

View = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class _ClientCall:
    method: str
    pattern: re.Pattern[str]
    kind: str | None
    """The object whose client secret the call needs (None: no object, no secret)."""
    params: tuple[str, ...]
    """What the browser may send besides ``client_secret``."""


_CALLS = (
    _ClientCall("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), "payment_intent", ()),
    _ClientCall(
        "POST",
        re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/confirm"),
        "payment_intent",
        ("payment_method", "return_url"),
    ),
    _ClientCall("GET", re.compile(r"/v1/setup_intents/(?P<id>[^/]+)"), "setup_intent", ()),
    _ClientCall("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), "checkout.session", ()),
    _ClientCall(
        "POST", re.compile(r"/v1/payment_methods"), None, ("type", "card", "billing_details")
    ),
)

# What Stripe returns to a publishable key (its docs list these per object).
_VISIBLE = {
    "payment_intent": (
        "id", "object", "amount", "amount_details", "automatic_payment_methods", "canceled_at",
        "cancellation_reason", "capture_method", "client_secret", "confirmation_method",
        "created", "currency", "description", "last_payment_error", "livemode", "next_action",
        "payment_method", "payment_method_types", "processing", "receipt_email",
        "setup_future_usage", "shipping", "status",
    ),
    "setup_intent": (
        "id", "object", "cancellation_reason", "client_secret", "created", "description",
        "last_setup_error", "livemode", "next_action", "payment_method", "payment_method_types",
        "status", "usage",
    ),
    "checkout.session": (
        "id", "object", "amount_subtotal", "amount_total", "client_secret", "currency",
        "expires_at", "livemode", "mode", "payment_status", "return_url", "status", "ui_mode",
    ),
}  # fmt: skip

_NAMES = {
    "payment_intent": "PaymentIntent",
    "setup_intent": "SetupIntent",
    "checkout.session": "Checkout Session",
}


def client_side(emu: Emulator, method: str, path: str, params: dict[str, Any]) -> View:
    """Check a request made with a publishable key; the view of the answer it may see.

    Takes ``client_secret`` out of ``params`` once checked.

    Raises:
        StripeError: 401 for a call a publishable key may not make, 400 for a
            param it may not send or a client secret that does not match, 404 for
            an object that is not there.
    """
    call, ids = _find(method, path)
    allowed = {*call.params, "client_secret"}
    extra = next((name for name in params if name not in allowed), None)
    if extra is not None:
        raise StripeError(
            400,
            f"This parameter cannot be used with a publishable API key: {extra}. Send it from "
            "your server, with your secret key.",
            param=extra,
        )
    if call.kind is None:
        if params.get("type") not in (None, "card"):
            raise StripeError(400, "The emulator makes card payment methods only.", param="type")
        return _whole
    secret = params.pop("client_secret", None)
    with emu.state.locked():
        obj = emu.state.objects.get(ids["id"])
        if obj is None or obj.get("object") != call.kind:
            raise missing(call.kind, ids["id"])
        _check_secret(obj, secret, call.kind)
        given = params.get("payment_method")
        if given:
            _check_payment_method(emu, obj, str(given))
    kind = call.kind
    return lambda body: _visible(body, kind)


def _find(method: str, path: str) -> tuple[_ClientCall, dict[str, str]]:
    for call in _CALLS:
        if call.method == method and (found := call.pattern.fullmatch(path)):
            return call, found.groupdict()
    raise StripeError(401, PUBLISHABLE_REFUSED)


def _check_secret(obj: dict[str, Any], secret: Any, kind: str) -> None:
    name = _NAMES[kind]
    if not isinstance(secret, str) or not secret:
        raise StripeError(
            400,
            f"You must provide the {name}'s client_secret to use it with a publishable key.",
            code="parameter_missing",
            param="client_secret",
        )
    expected = obj.get("client_secret") or ""
    if not expected or not hmac.compare_digest(secret.encode(), str(expected).encode()):
        raise StripeError(
            400,
            f"The client_secret provided does not match the client_secret associated with "
            f"the {name}.",
            code=f"{kind.replace('checkout.session', 'checkout_session')}_invalid_parameter",
            param="client_secret",
        )


def _check_payment_method(emu: Emulator, intent: dict[str, Any], given: str) -> None:
    """A browser pays with a card it just entered, or one saved to the intent's customer:
    never with another customer's saved card."""
    found = emu.state.objects.get(given)
    if found is None or found.get("object") != "payment_method":
        return  # a test card's number or token: a new card
    if found.get("customer") not in (None, intent.get("customer")):
        raise missing("PaymentMethod", given, "payment_method")


def _visible(body: dict[str, Any], kind: str) -> dict[str, Any]:
    if body.get("object") != kind:
        return body  # an error
    shown = {name: body.get(name) for name in _VISIBLE[kind] if name in body}
    method = shown.get("payment_method")
    if isinstance(method, dict):
        shown["payment_method"] = method.get("id")
    return shown


def _whole(body: dict[str, Any]) -> dict[str, Any]:
    return body
