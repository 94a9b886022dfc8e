"""Disputes: Stripe's test card 4000 0000 0000 0259 pays, then the cardholder disputes it.

Events: ``charge.dispute.created`` and ``charge.dispute.funds_withdrawn`` right
after the payment; then, when evidence is submitted with Stripe's test words
(``evidence[uncategorized_text]=winning_evidence`` or ``losing_evidence``) or
the dispute is closed (accepted), ``charge.dispute.closed`` (won disputes then
``charge.dispute.funds_reinstated``). Left alone, it is lost when its evidence
is due (``evidence_details.due_by``, 7 days in the emulator).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from stripe.params import DisputeCloseParams, DisputeListParams, DisputeUpdateParams

from ._charges import AFTER_PAYMENT
from ._core import Emulator, as_bool, metadata_update
from ._parts import part
from ._payment_methods import card_of
from ._routes import plain_resource, route
from ._schedule import Pending, timer
from ._wire import StripeError

__all__: list[str] = []

_EVIDENCE_DAYS = 7
_OPEN = ("needs_response", "warning_needs_response", "under_review", "warning_under_review")
_OUTCOMES = {"winning_evidence": "won", "losing_evidence": "lost"}


def _dispute_if_the_card_does(emu: Emulator, charge: dict[str, Any]) -> None:
    pm = emu.state.objects.get(charge["payment_method"])
    if pm is not None and card_of(pm).disputes:
        open_dispute(emu, charge)


AFTER_PAYMENT.append(_dispute_if_the_card_does)


def open_dispute(emu: Emulator, charge: dict[str, Any]) -> dict[str, Any]:
    """The cardholder disputes the charge as fraudulent; its amount is withdrawn."""
    now = emu.state.clock.now()
    dispute = emu.state.new(
        "dispute",
        amount=charge["amount"],
        balance_transactions=[],
        charge=charge["id"],
        currency=charge["currency"],
        enhanced_eligibility_types=[],
        evidence=part("dispute", "evidence"),
        evidence_details=part(
            "dispute",
            "evidence_details",
            due_by=now + _EVIDENCE_DAYS * 86400,
            has_evidence=False,
            past_due=False,
            submission_count=0,
        ),
        is_charge_refundable=False,
        payment_intent=charge["payment_intent"],
        payment_method_details=part(
            "dispute",
            "payment_method_details",
            type="card",
            card=part(
                "dispute",
                "payment_method_details",
                "card",
                brand=charge["payment_method_details"]["card"]["brand"],
                case_type="chargeback",
                network_reason_code="10.4",
            ),
        ),
        reason="fraudulent",
        status="needs_response",
    )
    charge["disputed"] = True
    emu.emit("charge.dispute.created", dispute)
    emu.emit("charge.dispute.funds_withdrawn", dispute)
    return dispute


def _close(emu: Emulator, dispute: dict[str, Any], status: str) -> None:
    dispute["status"] = status
    emu.emit("charge.dispute.closed", dispute)
    if status == "won":
        emu.emit("charge.dispute.funds_reinstated", dispute)


@timer
def _due(emu: Emulator) -> Pending:
    """A dispute nobody answered is lost when its evidence is due."""
    for dispute in reversed(emu.state.all("dispute")):
        if dispute["status"] == "needs_response":
            yield dispute["evidence_details"]["due_by"], partial(_expire, emu, dispute)


def _expire(emu: Emulator, dispute: dict[str, Any]) -> None:
    dispute["evidence_details"]["past_due"] = True
    _close(emu, dispute, "lost")


plain_resource("dispute", "/v1/disputes", DisputeListParams, filters=("charge", "payment_intent"))


@route(
    "POST",
    "/v1/disputes/{id}",
    DisputeUpdateParams,
    honours=("evidence[uncategorized_text]", "evidence[product_description]", "metadata", "submit"),
)
def update_dispute(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Add evidence (``charge.dispute.updated``) and submit it (the default).

    Submitted evidence saying ``winning_evidence`` wins the dispute,
    ``losing_evidence`` loses it, at once (Stripe's test mode decides within
    minutes); other evidence leaves it ``under_review``.
    """
    dispute = emu.state.get("dispute", id)
    if dispute["status"] not in _OPEN:
        raise StripeError(400, f"This dispute is already closed ({dispute['status']}).", param="id")
    before = emu.state.public(dispute)
    evidence = params.get("evidence") or {}
    if evidence:
        dispute["evidence"] = {**dispute["evidence"], **{k: v or None for k, v in evidence.items()}}
        dispute["evidence_details"] = {**dispute["evidence_details"], "has_evidence": True}
    if "metadata" in params:
        dispute["metadata"] = metadata_update(dispute["metadata"], params["metadata"])
    submit = as_bool(params, "submit", default=True)
    if submit:
        details = dispute["evidence_details"]
        dispute["evidence_details"] = {
            **details,
            "submission_count": details["submission_count"] + 1,
        }
        dispute["status"] = "under_review"
    emu.emit_updated("charge.dispute.updated", dispute, before)
    outcome = _OUTCOMES.get(str(dispute["evidence"].get("uncategorized_text")))
    if submit and outcome is not None:
        _close(emu, dispute, outcome)
    return dispute


@route("POST", "/v1/disputes/{id}/close", DisputeCloseParams)
def close_dispute(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Accept the dispute: it is lost (``charge.dispute.closed``)."""
    dispute = emu.state.get("dispute", id)
    if dispute["status"] not in _OPEN:
        raise StripeError(400, f"This dispute is already closed ({dispute['status']}).", param="id")
    _close(emu, dispute, "lost")
    return dispute
