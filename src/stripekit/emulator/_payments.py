"""Test cards and payment intents: what succeeds, what is declined and how Stripe says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe.params import (
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentListParams,
)

from stripekit._shapes import random_id

from ._core import Emulator, as_bool, as_int, metadata_update
from ._parts import part
from ._routes import route
from ._wire import StripeError

__all__ = ["TEST_CARDS", "CardDeclined", "charge_card", "new_payment_intent"]


@dataclass(frozen=True)
class TestCard:
    """A card number (or payment method token) and what Stripe does with it."""

    number: str
    token: str
    description: str
    decline_code: str | None = None
    message: str | None = None

    @property
    def succeeds(self) -> bool:
        """Whether a payment with it goes through."""
        return self.decline_code is None


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("4242424242424242", "pm_card_visa", "Visa: succeeds"),
    TestCard("5555555555554444", "pm_card_mastercard", "Mastercard: succeeds"),
    TestCard(
        "4000000000000002",
        "pm_card_chargeDeclined",
        "declined (generic_decline)",
        "generic_decline",
        "Your card was declined.",
    ),
    TestCard(
        "4000000000009995",
        "pm_card_chargeDeclinedInsufficientFunds",
        "declined (insufficient_funds)",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    TestCard(
        "4000000000000069",
        "pm_card_chargeDeclinedExpiredCard",
        "declined (expired_card)",
        "expired_card",
        "Your card has expired.",
    ),
)
"""Stripe's test cards the emulator knows; any other number is refused like Stripe refuses it."""


class CardDeclined(StripeError):
    """Stripe's 402 card_error."""

    def __init__(self, message: str, decline_code: str, code: str = "card_declined") -> None:
        super().__init__(402, message, type="card_error", code=code, decline_code=decline_code)


def _card(number_or_token: str) -> TestCard:
    cleaned = number_or_token.replace(" ", "").replace("-", "")
    for card in TEST_CARDS:
        if cleaned in (card.number, card.token):
            return card
    if cleaned.isdigit() and 12 <= len(cleaned) <= 19 and _luhn(cleaned):
        raise CardDeclined(
            "Your card was declined. Your request was in test mode, but used a non test card. "
            "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
            "test_mode_live_card",
        )
    if cleaned.startswith("pm_"):
        raise StripeError(
            404,
            f"No such PaymentMethod: '{cleaned}'",
            code="resource_missing",
            param="payment_method",
        )
    raise CardDeclined(
        "Your card number is incorrect.", "incorrect_number", code="incorrect_number"
    )


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def charge_card(number_or_token: str) -> TestCard:
    """The card, if a payment with it succeeds; CardDeclined (402) otherwise."""
    card = _card(number_or_token)
    if card.decline_code is not None:
        raise CardDeclined(str(card.message), card.decline_code)
    return card


def new_payment_intent(
    emu: Emulator,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    metadata: dict[str, str],
    description: str | None = None,
) -> dict[str, Any]:
    """A payment intent waiting for a payment method (``payment_intent.created`` emitted)."""
    intent = emu.state.new(
        "payment_intent",
        amount=amount,
        amount_capturable=0,
        amount_received=0,
        capture_method="automatic_async",
        client_secret=None,
        confirmation_method="automatic",
        currency=currency,
        customer=customer,
        description=description,
        metadata=metadata,
        payment_method_types=["card"],
        status="requires_payment_method",
    )
    intent["client_secret"] = f"{intent['id']}_secret_{random_id('', 16)}"
    emu.emit("payment_intent.created", intent)
    return intent


def succeed(emu: Emulator, intent: dict[str, Any]) -> None:
    """Mark the intent paid (the caller emits ``payment_intent.succeeded`` when Stripe would)."""
    intent.update(
        status="succeeded",
        amount_received=intent["amount"],
        latest_charge=random_id("ch_"),
        payment_method=intent.get("payment_method") or random_id("pm_"),
        last_payment_error=None,
    )


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
        "payment_method",
        "confirm",
    ),
)
def create_payment_intent(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    currency = str(params.get("currency", "")).lower()
    if not currency:
        raise StripeError(
            400, "Missing required param: currency.", code="parameter_missing", param="currency"
        )
    if params.get("customer"):
        emu.state.get("customer", params["customer"])
    intent = new_payment_intent(
        emu,
        amount=as_int(params, "amount"),
        currency=currency,
        customer=params.get("customer"),
        metadata=metadata_update({}, params.get("metadata", {})),
        description=params.get("description"),
    )
    if params.get("payment_method"):
        intent["payment_method"] = params["payment_method"]
        intent["status"] = "requires_confirmation"
    if as_bool(params, "confirm"):
        return _confirm(emu, intent)
    return intent


@route(
    "POST",
    "/v1/payment_intents/{id}/confirm",
    PaymentIntentConfirmParams,
    honours=("payment_method",),
)
def confirm_payment_intent(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = emu.state.get("payment_intent", id, resource="payment_intent")
    if params.get("payment_method"):
        intent["payment_method"] = params["payment_method"]
    return _confirm(emu, intent)


def _confirm(emu: Emulator, intent: dict[str, Any]) -> dict[str, Any]:
    if intent["status"] == "succeeded":
        raise StripeError(
            400,
            "This PaymentIntent's status is succeeded; it cannot be confirmed again.",
            code="payment_intent_unexpected_state",
        )
    if not intent.get("payment_method"):
        raise StripeError(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
        )
    try:
        charge_card(intent["payment_method"])
    except CardDeclined as exc:
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = part(
            "payment_intent",
            "last_payment_error",
            type=exc.type,
            code=exc.code,
            decline_code=exc.decline_code,
            message=exc.message,
            doc_url=f"https://docs.stripe.com/error-codes/{str(exc.code).replace('_', '-')}",
            payment_method_type="card",
        )
        emu.emit("payment_intent.payment_failed", intent)
        raise
    succeed(emu, intent)
    emu.emit("payment_intent.succeeded", intent)
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
