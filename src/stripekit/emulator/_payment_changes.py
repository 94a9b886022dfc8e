"""Changing a payment intent after it is made: update, cancel, capture a held amount."""

from __future__ import annotations

from typing import Any

from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentUpdateParams,
)

from ._core import Emulator, as_int, metadata_update
from ._payment_methods import payment_method
from ._payments import CHANGEABLE, amount_param
from ._routes import route
from ._wire import StripeError

__all__: list[str] = []

_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)


@route(
    "POST",
    "/v1/payment_intents/{id}",
    PaymentIntentUpdateParams,
    honours=("amount", "currency", "customer", "description", "metadata", "payment_method"),
)
def update_payment_intent(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Change an intent; amounts, currency, customer and card only before it is paid.

    Stripe sends no event for an update.
    """
    intent = emu.state.get("payment_intent", id, resource="payment_intent")
    money = [k for k in ("amount", "currency", "customer", "payment_method") if k in params]
    if money and intent["status"] not in CHANGEABLE:
        raise StripeError(
            400,
            f"You cannot update {money[0]} on a PaymentIntent with a status of {intent['status']}.",
            code="payment_intent_unexpected_state",
            param=money[0],
        )
    if "amount" in params:
        intent["amount"] = amount_param(params)
    if "currency" in params:
        intent["currency"] = str(params["currency"]).lower()
    if "customer" in params:
        intent["customer"] = emu.state.get("customer", params["customer"], param="customer")["id"]
    if "payment_method" in params:
        intent["payment_method"] = payment_method(emu, params["payment_method"])["id"]
        intent["status"] = "requires_confirmation"
    if "description" in params:
        intent["description"] = params["description"] or None
    if "metadata" in params:
        intent["metadata"] = metadata_update(intent["metadata"], params["metadata"])
    return intent


@route(
    "POST",
    "/v1/payment_intents/{id}/cancel",
    PaymentIntentCancelParams,
    honours=("cancellation_reason",),
)
def cancel_payment_intent(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Cancel an intent not yet paid (``payment_intent.canceled``); a held amount is released."""
    intent = emu.state.get("payment_intent", id, resource="payment_intent")
    if intent["status"] not in _CANCELABLE:
        raise StripeError(
            400,
            f"You cannot cancel this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            f"be canceled: {', '.join(_CANCELABLE)}.",
            code="payment_intent_unexpected_state",
        )
    if intent["status"] == "requires_capture":
        # The held amount goes back to the card: Stripe shows it refunded on the charge.
        charge = emu.state.objects[intent["latest_charge"]]
        charge.update(amount_refunded=charge["amount"], refunded=True)
    intent.update(
        status="canceled",
        amount_capturable=0,
        canceled_at=emu.state.clock.now(),
        cancellation_reason=params.get("cancellation_reason") or None,
        next_action=None,
    )
    emu.emit("payment_intent.canceled", intent)
    return intent


@route(
    "POST",
    "/v1/payment_intents/{id}/capture",
    PaymentIntentCaptureParams,
    honours=("amount_to_capture", "metadata"),
)
def capture_payment_intent(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Capture a held payment (``capture_method=manual``), all of it or less."""
    intent = emu.state.get("payment_intent", id, resource="payment_intent")
    if intent["status"] != "requires_capture":
        raise StripeError(
            400,
            f"This PaymentIntent could not be captured because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            "be captured: requires_capture.",
            code="payment_intent_unexpected_state",
        )
    amount = as_int(params, "amount_to_capture", default=intent["amount_capturable"])
    if not 0 < amount <= intent["amount_capturable"]:
        raise StripeError(
            400,
            f"The amount to capture ({amount}) must be more than 0 and at most the amount "
            f"capturable ({intent['amount_capturable']}).",
            code="amount_too_large",
            param="amount_to_capture",
        )
    charge = emu.state.objects[intent["latest_charge"]]
    charge.update(captured=True, amount_captured=amount)
    if "metadata" in params:
        intent["metadata"] = metadata_update(intent["metadata"], params["metadata"])
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
    emu.emit("payment_intent.succeeded", intent)
    return intent
