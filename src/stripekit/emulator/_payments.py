"""Payment intents: create, confirm (with 3-D Secure when the card asks), capture, cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe.params import (
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentListParams,
)

from stripekit._shapes import random_id

from ._cards import CardDeclined
from ._charges import declined, new_charge
from ._core import Emulator, as_bool, as_int, metadata_update, required
from ._parts import part
from ._payment_methods import attach, card_of, payment_method
from ._routes import route
from ._wire import StripeError

__all__ = [
    "CHANGEABLE",
    "SETTLED",
    "amount_param",
    "authenticate",
    "new_payment_intent",
    "pay_intent",
]

SETTLED: list[Callable[[Emulator, dict[str, Any], bool], None]] = []
"""Called with ``(emulator, intent, paid)`` when the browser's confirmation (or its
3-D Secure step) of an invoice's intent pays it or fails: the invoice's module
pays the invoice; kept here so that this module does not import it."""

CHANGEABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
"""Statuses in which an intent's amount, currency, customer and card may still change."""


def new_payment_intent(
    emu: Emulator,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    metadata: dict[str, str],
    description: str | None = None,
    capture_method: str = "automatic_async",
    quiet: bool = False,
) -> dict[str, Any]:
    """A payment intent waiting for a payment method (``payment_intent.created`` unless quiet).

    An invoice's payment intent is quiet: the emulator sends only the invoice's events.
    """
    intent = emu.state.new(
        "payment_intent",
        amount=amount,
        amount_capturable=0,
        amount_received=0,
        automatic_payment_methods=None,
        capture_method=capture_method,
        client_secret=None,
        confirmation_method="automatic",
        currency=currency,
        customer=customer,
        description=description,
        metadata=metadata,
        payment_method_types=["card"],
        status="requires_payment_method",
        _quiet=quiet,
    )
    intent["client_secret"] = f"{intent['id']}_secret_{random_id('', 16)}"
    if not quiet:
        emu.emit("payment_intent.created", intent)
    return intent


def pay_intent(
    emu: Emulator,
    intent: dict[str, Any],
    pm: dict[str, Any],
    *,
    off_session: bool = False,
    authenticated: bool = False,
    return_url: str | None = None,
) -> dict[str, Any]:
    """Charge ``pm``: the intent ends ``succeeded``, ``requires_capture`` or ``requires_action``.

    The caller sends ``payment_intent.succeeded`` where Stripe's order wants it.
    A decline is recorded on the intent (``payment_intent.payment_failed``) and raised.
    A card that asks for 3-D Secure gets it on-session (``requires_action``, or
    ``authenticated`` when the hosted page did it); off-session, a card never
    set up is declined with ``authentication_required``.
    """
    card = card_of(pm)
    intent.update(payment_method=pm["id"], next_action=None)
    failure = None
    if card.authenticates and not pm["_authenticated"] and not authenticated:
        if not off_session:
            return _requires_action(emu, intent, return_url)
        failure = CardDeclined(
            "Your card was declined. This transaction requires authentication.",
            "authentication_required",
            code="authentication_required",
        )
    charge = new_charge(
        emu,
        amount=intent["amount"],
        currency=intent["currency"],
        customer=intent["customer"],
        payment_method=pm,
        payment_intent=intent["id"],
        description=intent["description"],
        metadata=intent["metadata"],
        capture=intent["capture_method"] != "manual",
        decline=failure,
    )
    intent["latest_charge"] = charge["id"]
    if charge["status"] == "failed":
        error = declined(charge)
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = _payment_error(error)
        if not intent["_quiet"]:
            emu.emit("payment_intent.payment_failed", intent)
        raise error
    if authenticated:
        pm["_authenticated"] = True
    intent["last_payment_error"] = None
    if intent["capture_method"] == "manual":
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        if not intent["_quiet"]:
            emu.emit("payment_intent.amount_capturable_updated", intent)
    else:
        intent.update(status="succeeded", amount_received=intent["amount"])
    return intent


def _requires_action(
    emu: Emulator, intent: dict[str, Any], return_url: str | None
) -> dict[str, Any]:
    intent.update(
        status="requires_action",
        next_action=part(
            "payment_intent",
            "next_action",
            type="redirect_to_url",
            redirect_to_url=part(
                "payment_intent",
                "next_action",
                "redirect_to_url",
                url=f"{emu.base_url}/3ds/{intent['id']}",
                return_url=return_url,
            ),
        ),
        _return_url=return_url,
    )
    emu.emit("payment_intent.requires_action", intent)
    return intent


def authenticate(emu: Emulator, intent: dict[str, Any], *, passed: bool) -> dict[str, Any]:
    """The 3-D Secure challenge of an intent in ``requires_action``, completed or failed."""
    if intent["status"] != "requires_action":
        raise StripeError(
            400, f"This PaymentIntent is {intent['status']}: nothing to authenticate."
        )
    pm = emu.state.objects[intent["payment_method"]]
    if not passed:
        intent.update(
            status="requires_payment_method",
            next_action=None,
            last_payment_error=part(
                "payment_intent",
                "last_payment_error",
                type="invalid_request_error",
                code="payment_intent_authentication_failure",
                message="The provided PaymentMethod has failed authentication. You can provide "
                "payment_method_data or a new PaymentMethod to attempt to fulfill this "
                "PaymentIntent again.",
                payment_method_type="card",
            ),
        )
        emu.emit("payment_intent.payment_failed", intent)
        _settled(emu, intent, paid=False)
        return intent
    try:
        pay_intent(emu, intent, pm, authenticated=True)
    except CardDeclined:
        _settled(emu, intent, paid=False)
        return intent  # recorded on the intent, with its event
    if intent["status"] == "succeeded":
        emu.emit("payment_intent.succeeded", intent)
        _settled(emu, intent, paid=True)
    return intent


def _settled(emu: Emulator, intent: dict[str, Any], *, paid: bool) -> None:
    if intent.get("_invoice"):
        for then in SETTLED:
            then(emu, intent, paid)


def _payment_error(error: CardDeclined) -> dict[str, Any]:
    return part(
        "payment_intent",
        "last_payment_error",
        type=error.type,
        code=error.code,
        decline_code=error.decline_code,
        message=error.message,
        doc_url=f"https://docs.stripe.com/error-codes/{str(error.code).replace('_', '-')}",
        payment_method_type="card",
    )


_PAY_HONOURS = ("payment_method", "off_session", "return_url", "setup_future_usage=off_session")


@route(
    "POST",
    "/v1/payment_intents",
    PaymentIntentCreateParams,
    honours=(
        "amount",
        "currency",
        "customer",
        "metadata",
        "description",
        "confirm",
        "capture_method",
        "automatic_payment_methods[enabled]",
        *_PAY_HONOURS,
    ),
)
def create_payment_intent(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    currency = str(required(params, "currency")).lower()
    if params.get("customer"):
        emu.state.get("customer", params["customer"], param="customer")
    intent = new_payment_intent(
        emu,
        amount=amount_param(params),
        currency=currency,
        customer=params.get("customer"),
        metadata=metadata_update({}, params.get("metadata", {})),
        description=params.get("description"),
        capture_method=params.get("capture_method") or "automatic_async",
    )
    if "automatic_payment_methods" in params:
        intent["automatic_payment_methods"] = part(
            "payment_intent",
            "automatic_payment_methods",
            enabled=as_bool(params["automatic_payment_methods"], "enabled"),
        )
    if params.get("payment_method"):
        intent["payment_method"] = payment_method(emu, params["payment_method"])["id"]
        intent["status"] = "requires_confirmation"
    if as_bool(params, "confirm"):
        return _confirm(emu, intent, params)
    for name in ("off_session", "return_url", "setup_future_usage"):
        if name in params:
            raise StripeError(400, f"{name} can only be used with confirm=true.", param=name)
    return intent


def amount_param(params: dict[str, Any]) -> int:
    amount = as_int(params, "amount")
    if amount < 1:
        raise StripeError(
            400, "Amount must be at least 1 (in the currency's minor unit).", param="amount"
        )
    return amount


@route(
    "POST",
    "/v1/payment_intents/{id}/confirm",
    PaymentIntentConfirmParams,
    honours=_PAY_HONOURS,
)
def confirm_payment_intent(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = emu.state.get("payment_intent", id, resource="payment_intent")
    if params.get("payment_method"):
        intent["payment_method"] = payment_method(emu, params["payment_method"])["id"]
    return _confirm(emu, intent, params)


def _confirm(emu: Emulator, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if intent["status"] not in CHANGEABLE:
        raise StripeError(
            400,
            f"This PaymentIntent's status is {intent['status']}; it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    if not intent.get("payment_method"):
        raise StripeError(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
        )
    save = params.get("setup_future_usage") == "off_session"
    if save and not intent["customer"]:
        raise StripeError(
            400,
            "A customer is needed to save the payment method for later (setup_future_usage).",
            param="customer",
        )
    pm = emu.state.objects[intent["payment_method"]]
    try:
        pay_intent(
            emu,
            intent,
            pm,
            off_session=as_bool(params, "off_session"),
            return_url=params.get("return_url"),
        )
    except CardDeclined:
        _settled(emu, intent, paid=False)
        raise
    if save and intent["status"] != "requires_action":
        attach(emu, pm, intent["customer"])
        pm["_authenticated"] = True
        intent["setup_future_usage"] = "off_session"
    if intent["status"] == "succeeded":
        emu.emit("payment_intent.succeeded", intent)
        _settled(emu, intent, paid=True)
    return intent


@route("GET", "/v1/payment_intents/{id}")
def retrieve_payment_intent(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("payment_intent", id, resource="payment_intent")


@route("GET", "/v1/payment_intents", PaymentIntentListParams, honours=("customer",))
def list_payment_intents(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("payment_intent")
    if params.get("customer"):
        items = [i for i in items if i.get("customer") == params["customer"]]
    return emu.list_of(items, params, "/v1/payment_intents", "payment_intent")
