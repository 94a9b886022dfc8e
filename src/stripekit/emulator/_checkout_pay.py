"""Paying a Checkout Session on the hosted page: a payment, a subscription or a saved card.

A card that cannot do what the session needs is declined before anything is
recorded (the session stays open, as on Stripe). A card that asks for 3-D
Secure stops at a challenge the buyer completes or fails.
"""

from __future__ import annotations

from typing import Any

from stripe.params import SetupIntentListParams

from stripekit._shapes import random_id

from ._cards import AUTHENTICATION_FAILED, CardDeclined, TestCard, find_card
from ._checkout_api import expire, trial_end
from ._core import Emulator, metadata_update
from ._customers import create_customer
from ._parts import part
from ._payment_methods import attach, new_payment_method
from ._payments import new_payment_intent, pay_intent
from ._routes import plain_resource
from ._subscriptions import start_subscription
from ._wire import StripeError

__all__ = ["ChallengeNeeded", "card_needed", "pay_session"]


class ChallengeNeeded(Exception):
    """The card asks for 3-D Secure: the page shows the challenge before anything is paid."""


def card_needed(session: dict[str, Any], trial: int | None) -> bool:
    """Whether the page must take a card: not for a trial with
    ``payment_method_collection=if_required``."""
    if session["mode"] != "subscription" or session["payment_method_collection"] != "if_required":
        return True
    return trial is None and bool(session["amount_total"])


def pay_session(
    emu: Emulator,
    session_id: str,
    *,
    card: str,
    email: str | None,
    name: str | None,
    authenticated: bool | None = None,
) -> dict[str, Any]:
    """Pay an open session as the hosted page does; CardDeclined on a decline.

    ``authenticated`` is the outcome of the 3-D Secure challenge, when the card
    asked for one: None until the buyer has seen it (ChallengeNeeded).
    """
    # The page pays in the session's own account (a connected account's, with Connect).
    owner = emu.state.objects.get(session_id, {}).get("_account")
    with emu.state.locked(), emu.state.acting_as(owner):
        try:
            return _pay_session(emu, session_id, card, email, name, authenticated)
        finally:
            emu.settle()


def _pay_session(
    emu: Emulator,
    session_id: str,
    card: str,
    email: str | None,
    name: str | None,
    authenticated: bool | None,
) -> dict[str, Any]:
    session = emu.state.get("checkout.session", session_id, resource="checkout.session")
    if session["status"] != "open":
        raise StripeError(400, f"This Checkout Session is {session['status']}; it cannot be paid.")
    if session["expires_at"] <= emu.state.clock.now():
        expire(emu, session)
        raise StripeError(400, "This Checkout Session has expired.")
    trial = trial_end(emu, session)
    given = _card(card, required=card_needed(session, trial))
    if given is not None:
        _check(session, given, charged_now=_charged_now(session, trial), passed=authenticated)
    email = session["customer_email"] or email
    customer_id = session["customer"]
    if customer_id is None and session["mode"] != "setup":
        if not email:
            raise StripeError(400, "Enter your email address.", param="email")
        made = create_customer(emu, {"email": email, **({"name": name} if name else {})})
        customer_id = made["id"]
    customer = emu.state.objects.get(customer_id or "", {})
    pm = None
    if given is not None:
        pm = new_payment_method(emu, given, name=name, email=customer.get("email") or email)
    session.update(
        customer=customer_id,
        customer_details=part(
            "checkout.session",
            "customer_details",
            address=part("checkout.session", "customer_details", "address"),
            email=customer.get("email") or email,
            name=name or customer.get("name"),
            tax_exempt="none",
            tax_ids=[],
        ),
        status="complete",
    )
    if session["mode"] == "payment" and pm is not None:  # a payment always takes a card
        return _pay(emu, session, pm, authenticated=bool(authenticated))
    if pm is not None and customer_id is not None:
        attach(emu, pm, customer_id)
        pm["_authenticated"] = True  # set up on-session, with the buyer present
    if session["mode"] == "setup" and pm is not None:  # so does a setup
        return _set_up(emu, session, pm)
    return _subscribe(emu, session, pm, trial)


def _card(number: str, *, required: bool) -> TestCard | None:
    if not number.strip():
        if required:
            raise CardDeclined("Your card number is incomplete.", None, code="incomplete_number")
        return None
    return find_card(number)


def _charged_now(session: dict[str, Any], trial: int | None) -> bool:
    return session["mode"] == "payment" or (
        session["mode"] == "subscription" and trial is None and bool(session["amount_total"])
    )


def _check(
    session: dict[str, Any], card: TestCard, *, charged_now: bool, passed: bool | None
) -> None:
    """Decline what the card cannot do; ask for 3-D Secure when it wants it."""
    if charged_now and not card.succeeds:
        raise CardDeclined(str(card.message), card.decline_code)
    if not charged_now and not card.can_be_saved:
        raise CardDeclined(str(card.message), card.decline_code)
    if card.authenticates:
        if passed is None:
            raise ChallengeNeeded
        if not passed:
            kind = "setup_intent" if session["mode"] == "setup" else "payment_intent"
            raise CardDeclined(AUTHENTICATION_FAILED, None, code=f"{kind}_authentication_failure")


def _pay(
    emu: Emulator, session: dict[str, Any], pm: dict[str, Any], *, authenticated: bool
) -> dict[str, Any]:
    extra = session["_payment_intent_data"]
    intent = new_payment_intent(
        emu,
        amount=session["amount_total"],
        currency=session["currency"],
        customer=session["customer"],
        metadata=metadata_update({}, extra.get("metadata", {})),
        description=extra.get("description"),
    )
    pay_intent(emu, intent, pm, authenticated=authenticated)
    session.update(payment_intent=intent["id"], payment_status="paid")
    emu.emit("checkout.session.completed", session)
    emu.emit("payment_intent.succeeded", intent)
    return session


def _subscribe(
    emu: Emulator, session: dict[str, Any], pm: dict[str, Any] | None, trial: int | None
) -> dict[str, Any]:
    extra = session["_subscription_data"]
    items = [
        (emu.state.objects[li["price"]["id"]], li["quantity"])
        for li in emu.state.line_items[session["id"]]
    ]
    sub, invoice = start_subscription(
        emu,
        customer=session["customer"],
        items=items,
        trial_end=trial,
        metadata=metadata_update({}, extra.get("metadata", {})),
        payment_method=pm["id"] if pm else None,
        trial_settings=extra.get("trial_settings"),
    )
    session.update(
        subscription=sub["id"],
        invoice=invoice["id"],
        payment_status="paid" if invoice["amount_paid"] else "no_payment_required",
    )
    emu.emit("checkout.session.completed", session)
    return session


def _set_up(emu: Emulator, session: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    """Setup mode: a SetupIntent saves the card (``setup_intent.created``, ``.succeeded``)."""
    extra = session["_setup_intent_data"]
    intent = emu.state.new(
        "setup_intent",
        customer=session["customer"],
        description=extra.get("description"),
        metadata=metadata_update({}, extra.get("metadata", {})),
        payment_method_types=["card"],
        status="requires_payment_method",
        usage="off_session",
    )
    intent["client_secret"] = f"{intent['id']}_secret_{random_id('', 24)}"
    emu.emit("setup_intent.created", intent)
    intent.update(status="succeeded", payment_method=pm["id"])
    emu.emit("setup_intent.succeeded", intent)
    session["setup_intent"] = intent["id"]
    emu.emit("checkout.session.completed", session)
    return session


plain_resource(
    "setup_intent",
    "/v1/setup_intents",
    SetupIntentListParams,
    filters=("customer", "payment_method"),
)
