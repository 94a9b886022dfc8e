"""Refunds: all or part of a charge, until nothing is left.

Events: ``charge.refunded`` (with the charge's previous amounts), ``refund.created``.
"""

from __future__ import annotations

from typing import Any

from stripe.params import RefundCreateParams, RefundListParams, RefundUpdateParams

from stripekit.catalog._currencies import format_amount

from ._computed import computed
from ._core import Emulator, as_int, metadata_update
from ._parts import part
from ._routes import plain_resource, route
from ._state import State
from ._wire import StripeError

__all__: list[str] = []

_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


@route(
    "POST",
    "/v1/refunds",
    RefundCreateParams,
    honours=("charge", "payment_intent", "amount", "reason", "metadata"),
)
def create_refund(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    """Refund a charge (or a payment intent's charge): all that is left, or ``amount``.

    The charge shows it (``amount_refunded``, ``refunded`` once nothing is left);
    events ``charge.refunded`` (with the charge's previous amounts), ``refund.created``.
    Card refunds succeed at once.
    """
    charge = _charge(emu, params)
    if charge["disputed"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    left = charge["amount_captured"] - charge["amount_refunded"]
    if left <= 0:
        raise StripeError(
            400,
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = as_int(params, "amount", default=left)
    if amount < 1:
        raise StripeError(400, "Refund amount must be at least 1.", param="amount")
    if amount > left:
        money = format_amount(amount, charge["currency"])
        limit = format_amount(left, charge["currency"])
        what = "unrefunded amount on charge" if charge["amount_refunded"] else "charge amount"
        raise StripeError(
            400,
            f"Refund amount ({money}) is greater than {what} ({limit})",
            code="amount_too_large",
            param="amount",
        )
    reason = params.get("reason") or None
    if reason is not None and reason not in _REASONS:
        raise StripeError(
            400,
            f"Invalid reason: must be one of {', '.join(_REASONS)}",
            code="parameter_invalid_string",
            param="reason",
        )
    refund = emu.state.new(
        "refund",
        amount=amount,
        charge=charge["id"],
        currency=charge["currency"],
        destination_details=part(
            "refund",
            "destination_details",
            type="card",
            card=part("refund", "destination_details", "card", type="refund"),
        ),
        metadata=metadata_update({}, params.get("metadata", {})),
        payment_intent=charge["payment_intent"],
        payment_method=charge["payment_method"],
        reason=reason,
        status="succeeded",
    )
    before = emu.state.public(charge)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    emu.emit_updated("charge.refunded", charge, before)
    emu.emit("refund.created", refund)
    return refund


def _charge(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("charge"):
        charge = emu.state.get("charge", params["charge"], param="charge")
        if params.get("payment_intent") and charge["payment_intent"] != params["payment_intent"]:
            raise StripeError(
                400,
                f"Charge {charge['id']} does not belong to PaymentIntent "
                f"{params['payment_intent']}.",
                param="payment_intent",
            )
    elif params.get("payment_intent"):
        intent = emu.state.get(
            "payment_intent", params["payment_intent"], resource="payment_intent",
            param="payment_intent",
        )  # fmt: skip
        if intent["status"] != "succeeded" or not intent["latest_charge"]:
            raise StripeError(
                400,
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        charge = emu.state.objects[intent["latest_charge"]]
    else:
        raise StripeError(
            400,
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            code="parameter_missing",
        )
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has not been captured: nothing was paid to refund.",
            code="charge_not_refundable",
        )
    return charge


@computed("charge", "refunds")
def _charge_refunds(state: State, charge: dict[str, Any]) -> dict[str, Any]:
    data = [state.public(r) for r in state.all("refund") if r["charge"] == charge["id"]]
    url = f"/v1/charges/{charge['id']}/refunds"
    return {"object": "list", "data": data, "has_more": False, "url": url}


@route("POST", "/v1/refunds/{id}", RefundUpdateParams, honours=("metadata",))
def update_refund(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    refund = emu.state.get("refund", id)
    before = emu.state.public(refund)
    if "metadata" in params:
        refund["metadata"] = metadata_update(refund["metadata"], params["metadata"])
    emu.emit_updated("refund.updated", refund, before)
    return refund


plain_resource("refund", "/v1/refunds", RefundListParams, filters=("charge", "payment_intent"))
