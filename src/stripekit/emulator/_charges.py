"""Charges: what a payment attempt leaves behind, paid or declined.

Every payment attempt, of a payment intent or of an invoice, makes a charge
that can be fetched (``latest_charge``). The emulator sends no
``charge.succeeded``/``charge.failed`` events (docs/emulator.md); refunds and
disputes send theirs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from stripe.params import ChargeListParams

from ._cards import CardDeclined
from ._core import Emulator
from ._parts import part
from ._payment_methods import card_of
from ._routes import plain_resource

__all__ = ["AFTER_PAYMENT", "declined", "new_charge"]

AFTER_PAYMENT: list[Callable[[Emulator, dict[str, Any]], None]] = []
"""What happens moments after a charge goes through (a dispute opened, for one card)."""

_DECLINE_MESSAGE = "The bank did not return any further details with this decline."


def new_charge(
    emu: Emulator,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    payment_method: dict[str, Any],
    payment_intent: str | None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    capture: bool = True,
    decline: CardDeclined | None = None,
) -> dict[str, Any]:
    """A charge of ``payment_method``: succeeded, or failed with the card's (or ``decline``'s) code.

    A charge that goes through runs ``AFTER_PAYMENT`` once the current request is done.
    """
    card = card_of(payment_method)
    failure = decline or (
        None if card.succeeds else CardDeclined(str(card.message), card.decline_code)
    )
    ok = failure is None
    charge = emu.state.new(
        "charge",
        amount=amount,
        amount_captured=amount if ok and capture else 0,
        amount_refunded=0,
        billing_details=payment_method["billing_details"],
        calculated_statement_descriptor="STRIPEKIT EMULATOR",
        captured=ok and capture,
        currency=currency,
        customer=customer,
        description=description,
        disputed=False,
        failure_code=None if failure is None else failure.code,
        failure_message=None if failure is None else failure.message,
        fraud_details={},
        metadata=dict(metadata or {}),
        outcome=_outcome(failure),
        paid=ok,
        payment_intent=payment_intent,
        payment_method=payment_method["id"],
        payment_method_details=part(
            "charge",
            "payment_method_details",
            type="card",
            card=part(
                "charge",
                "payment_method_details",
                "card",
                **{
                    k: payment_method["card"][k]
                    for k in ("brand", "country", "exp_month", "exp_year", "fingerprint")
                },
                funding="credit",
                last4=card.last4,
                network=card.brand,
            ),
        ),
        refunded=False,
        status="succeeded" if ok else "failed",
    )
    if ok:
        for after in AFTER_PAYMENT:
            emu.later(functools.partial(after, emu, charge))
    return charge


def _outcome(failure: CardDeclined | None) -> dict[str, Any]:
    if failure is None:
        return part(
            "charge",
            "outcome",
            network_status="approved_by_network",
            risk_level="normal",
            seller_message="Payment complete.",
            type="authorized",
        )
    return part(
        "charge",
        "outcome",
        network_status="declined_by_network",
        reason=failure.decline_code,
        risk_level="normal",
        seller_message=_DECLINE_MESSAGE,
        type="issuer_declined",
    )


def declined(charge: dict[str, Any]) -> CardDeclined:
    """The 402 a failed charge answers with."""
    return CardDeclined(
        str(charge["failure_message"]),
        charge["outcome"]["reason"],
        code=str(charge["failure_code"]),
    )


plain_resource("charge", "/v1/charges", ChargeListParams, filters=("customer", "payment_intent"))
