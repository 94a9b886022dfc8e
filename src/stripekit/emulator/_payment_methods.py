"""Payment methods: a test card saved as Stripe saves it, and attached to customers.

A ``pm_card_...`` token or a card number makes a new payment method each time
it is used, as on Stripe (``pm_card_visa`` is not itself a saved card). The
emulator sends no ``payment_method.*`` events (docs/emulator.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from stripe.params import (
    CustomerPaymentMethodListParams,
    PaymentMethodAttachParams,
    PaymentMethodCreateParams,
    PaymentMethodDetachParams,
    PaymentMethodListParams,
)

from ._cards import CardDeclined, TestCard, find_card
from ._core import Emulator, as_int, required
from ._parts import part
from ._routes import route
from ._wire import StripeError

__all__ = ["attach", "card_of", "customer_default", "new_payment_method", "payment_method"]

_EXPIRES = 2034


def new_payment_method(
    emu: Emulator,
    card: TestCard,
    *,
    name: str | None = None,
    email: str | None = None,
    exp_month: int = 12,
    exp_year: int = _EXPIRES,
    cvc_check: str | None = "pass",
) -> dict[str, Any]:
    """A payment method for a test card, attached to no one yet."""
    return emu.state.new(
        "payment_method",
        type="card",
        allow_redisplay="unspecified",
        billing_details=part(
            "payment_method",
            "billing_details",
            address=part("payment_method", "billing_details", "address"),
            email=email,
            name=name,
        ),
        card=part(
            "payment_method",
            "card",
            brand=card.brand,
            display_brand=card.brand,
            checks=part("payment_method", "card", "checks", cvc_check=cvc_check),
            country="US",
            exp_month=exp_month,
            exp_year=exp_year,
            fingerprint=hashlib.sha256(card.number.encode()).hexdigest()[:16],
            funding="credit",
            last4=card.last4,
            networks=part("payment_method", "card", "networks", available=[card.brand]),
            three_d_secure_usage=part(
                "payment_method", "card", "three_d_secure_usage", supported=True
            ),
        ),
        customer=None,
        _card=card.number,
        _authenticated=False,
    )


def payment_method(
    emu: Emulator, given: str, *, param: str = "payment_method", **details: str | None
) -> dict[str, Any]:
    """A saved payment method by id, or a new one for a test card's token or number."""
    found = emu.state.objects.get(given)
    if found is not None and found.get("object") == "payment_method":
        return found
    try:
        card = find_card(given)
    except StripeError as exc:
        exc.param = param
        raise
    return new_payment_method(emu, card, name=details.get("name"), email=details.get("email"))


def card_of(pm: dict[str, Any]) -> TestCard:
    """The test card behind a payment method."""
    return find_card(str(pm["_card"]))


def attach(emu: Emulator, pm: dict[str, Any], customer: str) -> None:
    """Save ``pm`` to ``customer``; a card that cannot be saved is declined (402)."""
    card = card_of(pm)
    if not card.can_be_saved:
        raise CardDeclined(str(card.message), card.decline_code)
    if pm["customer"] not in (None, customer):
        raise StripeError(
            400,
            f"The payment method you provided has already been attached to a customer "
            f"({pm['customer']}).",
            param="payment_method",
        )
    pm["customer"] = customer


def customer_default(emu: Emulator, customer: str, given: str, *, param: str) -> str:
    """``given`` if it is a payment method saved to ``customer`` (what a default must be)."""
    found = emu.state.objects.get(given)
    if found is None or found.get("object") != "payment_method" or found["customer"] != customer:
        raise StripeError(
            400,
            f"The customer does not have a payment method with the ID {given}. The payment "
            "method must be attached to the customer (POST /v1/payment_methods/{id}/attach).",
            code="resource_missing",
            param=param,
        )
    return given


@route(
    "POST",
    "/v1/payment_methods",
    PaymentMethodCreateParams,
    honours=(
        "type=card",
        "card[number]",
        "card[exp_month]",
        "card[exp_year]",
        "card[cvc]",
        "billing_details[name]",
        "billing_details[email]",
    ),
)
def create_payment_method(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    """A card payment method from a test card's number (what Stripe.js sends from the
    Payment Element), attached to no one."""
    if params.get("type") != "card":
        raise StripeError(
            400, "Missing required param: type.", code="parameter_missing", param="type"
        )
    card = params.get("card")
    card = card if isinstance(card, dict) else {}
    number = card.get("number")
    if not number:
        raise CardDeclined("Your card number is incomplete.", None, code="incomplete_number")
    try:
        found = find_card(str(number))
    except StripeError as exc:
        exc.param = "card[number]"
        raise
    details = params.get("billing_details") or {}
    return new_payment_method(
        emu,
        found,
        name=details.get("name"),
        email=details.get("email"),
        exp_month=as_int(card, "exp_month", default=12, path="card[exp_month]"),
        exp_year=as_int(card, "exp_year", default=_EXPIRES, path="card[exp_year]"),
        # A CVC given is checked (test cards pass); none given is not checked at all.
        cvc_check="pass" if card.get("cvc") else None,
    )


@route("GET", "/v1/payment_methods/{id}")
def retrieve_payment_method(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("payment_method", id, resource="PaymentMethod")


@route("GET", "/v1/payment_methods", PaymentMethodListParams, honours=("customer", "type=card"))
def list_payment_methods(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("payment_method")
    if params.get("customer"):
        items = [p for p in items if p["customer"] == params["customer"]]
    return emu.list_of(items, params, "/v1/payment_methods", "PaymentMethod")


@route(
    "GET",
    "/v1/customers/{id}/payment_methods",
    CustomerPaymentMethodListParams,
    honours=("type=card",),
)
def list_customer_payment_methods(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    emu.state.get("customer", id)
    items = [p for p in emu.state.all("payment_method") if p["customer"] == id]
    return emu.list_of(items, params, f"/v1/customers/{id}/payment_methods", "PaymentMethod")


@route(
    "POST",
    "/v1/payment_methods/{id}/attach",
    PaymentMethodAttachParams,
    honours=("customer",),
)
def attach_payment_method(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Attach a saved payment method, or a new one made from a ``pm_card_...`` token."""
    required(params, "customer")
    emu.state.get("customer", params["customer"], param="customer")
    pm = payment_method(emu, id, param="id")
    attach(emu, pm, params["customer"])
    return pm


@route("POST", "/v1/payment_methods/{id}/detach", PaymentMethodDetachParams)
def detach_payment_method(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Detach it; it stops being its customer's default for invoices."""
    pm = emu.state.get("payment_method", id, resource="PaymentMethod")
    if pm["customer"] is None:
        raise StripeError(
            400, f"The payment method {id} is not attached to a customer.", param="payment_method"
        )
    customer = emu.state.objects.get(pm["customer"], {})
    settings = customer.get("invoice_settings") or {}
    if settings.get("default_payment_method") == id:
        before = dict(customer)
        customer["invoice_settings"] = {**settings, "default_payment_method": None}
        emu.emit_updated("customer.updated", customer, before)
    pm["customer"] = None
    return pm
