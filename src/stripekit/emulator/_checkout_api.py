"""Checkout Sessions and billing portal sessions, and paying a session on the hosted page."""

from __future__ import annotations

from typing import Any

from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionLineItemListParams,
    SessionListParams,
)

from ._computed import computed
from ._core import Emulator, as_bool, as_int, metadata_update
from ._customers import create_customer
from ._parts import part
from ._payments import charge_card, new_payment_intent, succeed
from ._routes import route
from ._state import State
from ._subscriptions import start_subscription
from ._wire import StripeError

__all__ = ["expire_due", "pay_session", "trial_days"]

_DAY = 86400


@route(
    "POST",
    "/v1/checkout/sessions",
    SessionCreateParams,
    honours=(
        "mode=payment|subscription",
        "line_items[price]",
        "line_items[quantity]",
        "success_url",
        "cancel_url",
        "client_reference_id",
        "customer",
        "customer_email",
        # Stripe's default in payment mode, if_required, makes no Customer; the
        # emulator always makes one (docs/emulator.md), so only `always` is honoured.
        "customer_creation=always",
        "allow_promotion_codes",
        "automatic_tax[enabled]",
        "billing_address_collection=auto",
        "locale",
        "metadata",
        "subscription_data[metadata]",
        "subscription_data[trial_period_days]",
        "payment_intent_data[metadata]",
        "payment_intent_data[description]",
    ),
)
def create_session(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    mode = params.get("mode")
    if mode not in ("payment", "subscription"):
        raise StripeError(
            400,
            "Invalid mode: the emulator emulates `payment` and `subscription` sessions.",
            param="mode",
        )
    if params.get("customer") and params.get("customer_email"):
        raise StripeError(
            400,
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if params.get("customer"):
        emu.state.get("customer", params["customer"])
    lines = _line_items(emu, params.get("line_items") or [], mode)
    currency = lines[0][0]["currency"]
    total = sum(price["unit_amount"] * quantity for price, quantity in lines)
    now = emu.state.clock.now()
    session = emu.state.new(
        "checkout.session",
        mode=mode,
        status="open",
        payment_status="unpaid",
        currency=currency,
        amount_subtotal=total,
        amount_total=total,
        success_url=params.get("success_url"),
        cancel_url=params.get("cancel_url"),
        client_reference_id=params.get("client_reference_id"),
        customer=params.get("customer"),
        customer_email=params.get("customer_email"),
        customer_creation=None
        if mode == "subscription"
        else params.get("customer_creation", "if_required"),
        allow_promotion_codes=as_bool(params, "allow_promotion_codes")
        if "allow_promotion_codes" in params
        else None,
        locale=params.get("locale"),
        metadata=metadata_update({}, params.get("metadata", {})),
        automatic_tax=part(
            "checkout.session",
            "automatic_tax",
            enabled=as_bool(params.get("automatic_tax", {}), "enabled"),
        ),
        expires_at=now + _DAY,
        payment_method_types=["card"],
        payment_method_collection="always",
        billing_address_collection=params.get("billing_address_collection"),
        ui_mode="hosted",
        custom_fields=[],
        custom_text=part("checkout.session", "custom_text"),
        total_details=part("checkout.session", "total_details", amount_shipping=0),
        _subscription_data=params.get("subscription_data") or {},
        _payment_intent_data=params.get("payment_intent_data") or {},
    )
    session["url"] = f"{emu.base_url}/c/pay/{session['id']}"
    emu.state.line_items[session["id"]] = [
        _line_item(emu, price, quantity) for price, quantity in lines
    ]
    return session


def _line_items(emu: Emulator, items: list[Any], mode: str) -> list[tuple[dict[str, Any], int]]:
    if not items:
        raise StripeError(
            400, "Missing required param: line_items.", code="parameter_missing", param="line_items"
        )
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "price" not in item:
            raise StripeError(
                400,
                "The emulator takes line_items[][price] (a Price id); price_data is not emulated.",
                param=f"line_items[{i}][price]",
            )
        price = emu.state.get("price", item["price"])
        if not price["active"]:
            raise StripeError(
                400, f"The price `{price['id']}` is not active.", param=f"line_items[{i}][price]"
            )
        quantity = as_int(item, "quantity", default=1, path=f"line_items[{i}][quantity]")
        if quantity < 1:
            raise StripeError(
                400, "Quantity must be greater than 0.", param=f"line_items[{i}][quantity]"
            )
        if mode == "payment" and price["recurring"]:
            raise StripeError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                param=f"line_items[{i}][price]",
            )
        found.append((price, quantity))
    if mode == "subscription" and not any(p["recurring"] for p, _ in found):
        raise StripeError(
            400,
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            param="line_items",
        )
    if len({p["currency"] for p, _ in found}) > 1:
        raise StripeError(400, "All prices must be in the same currency.", param="line_items")
    return found


def _line_item(emu: Emulator, price: dict[str, Any], quantity: int) -> dict[str, Any]:
    product = emu.state.objects.get(price["product"], {})
    amount = price["unit_amount"] * quantity
    item = emu.state.new(
        "item",
        amount_discount=0,
        amount_subtotal=amount,
        amount_tax=0,
        amount_total=amount,
        currency=price["currency"],
        description=product.get("name"),
        price=emu.state.public(price),
        quantity=quantity,
    )
    # Line items live on their session, not as objects of their own.
    del emu.state.objects[item["id"]]
    return emu.state.public(item)


@computed("checkout.session", "line_items")
def _line_items_list(state: State, session: dict[str, Any]) -> dict[str, Any]:
    data = state.line_items.get(session["id"], [])
    url = f"/v1/checkout/sessions/{session['id']}/line_items"
    return {"object": "list", "data": data, "has_more": False, "url": url}


@route("GET", "/v1/checkout/sessions/{id}")
def retrieve_session(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("checkout.session", id, resource="checkout.session")


@route(
    "GET",
    "/v1/checkout/sessions",
    SessionListParams,
    honours=("customer", "status", "payment_intent", "subscription"),
)
def list_sessions(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("checkout.session")
    for name in ("customer", "status", "payment_intent", "subscription"):
        if params.get(name):
            items = [s for s in items if s.get(name) == params[name]]
    return emu.list_of(items, params, "/v1/checkout/sessions", "checkout.session")


@route("GET", "/v1/checkout/sessions/{id}/line_items", SessionLineItemListParams)
def list_session_line_items(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    session = emu.state.get("checkout.session", id, resource="checkout.session")
    items = emu.state.line_items.get(id, [])
    return emu.list_of(
        items, params, f"/v1/checkout/sessions/{session['id']}/line_items", "line item"
    )


@route("POST", "/v1/checkout/sessions/{id}/expire", SessionExpireParams)
def expire_session(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    session = emu.state.get("checkout.session", id, resource="checkout.session")
    if session["status"] != "open":
        raise StripeError(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
        )
    session["status"] = "expired"
    emu.emit("checkout.session.expired", session)
    return session


def expire_due(emu: Emulator) -> None:
    """Open sessions past their ``expires_at`` expire (``checkout.session.expired``)."""
    now = emu.state.clock.now()
    for session in reversed(emu.state.all("checkout.session")):
        if session["status"] == "open" and session["expires_at"] <= now:
            session["status"] = "expired"
            emu.emit("checkout.session.expired", session)


def pay_session(
    emu: Emulator, session_id: str, *, card: str, email: str | None, name: str | None
) -> dict[str, Any]:
    """Pay an open session with a test card, as the hosted page does; CardDeclined on a decline.

    A decline changes nothing: the session stays open and no payment is recorded.
    """
    with emu.state.lock:
        session = emu.state.get("checkout.session", session_id, resource="checkout.session")
        if session["status"] != "open":
            raise StripeError(
                400, f"This Checkout Session is {session['status']}; it cannot be paid."
            )
        if session["expires_at"] <= emu.state.clock.now():
            session["status"] = "expired"
            emu.emit("checkout.session.expired", session)
            raise StripeError(400, "This Checkout Session has expired.")
        charged = charge_card(card)
        email = session["customer_email"] or email
        customer_id = session["customer"]
        if customer_id is None:
            if not email:
                raise StripeError(400, "Enter your email address.", param="email")
            customer = create_customer(emu, {"email": email, **({"name": name} if name else {})})
            customer_id = customer["id"]
        customer = emu.state.objects[customer_id]
        details = part(
            "checkout.session",
            "customer_details",
            address=part("checkout.session", "customer_details", "address"),
            email=customer.get("email") or email,
            name=name or customer.get("name"),
            tax_exempt="none",
            tax_ids=[],
        )
        session.update(customer=customer_id, customer_details=details, status="complete")
        items = [
            (emu.state.objects[li["price"]["id"]], li["quantity"])
            for li in emu.state.line_items[session_id]
        ]
        if session["mode"] == "payment":
            extra = session["_payment_intent_data"]
            intent = new_payment_intent(
                emu,
                amount=session["amount_total"],
                currency=session["currency"],
                customer=customer_id,
                metadata=metadata_update({}, extra.get("metadata", {})),
                description=extra.get("description"),
            )
            intent["payment_method"] = charged.token
            succeed(emu, intent)
            session.update(payment_intent=intent["id"], payment_status="paid")
            emu.emit("checkout.session.completed", session)
            emu.emit("payment_intent.succeeded", intent)
            return session
        extra = session["_subscription_data"]
        sub, invoice = start_subscription(
            emu,
            customer=customer_id,
            items=items,
            trial_days=trial_days(emu, session),
            metadata=metadata_update({}, extra.get("metadata", {})),
            payment_method=charged.token,
        )
        session.update(
            subscription=sub["id"],
            invoice=invoice["id"],
            payment_status="paid" if invoice["amount_paid"] else "no_payment_required",
        )
        emu.emit("checkout.session.completed", session)
        return session


def trial_days(emu: Emulator, session: dict[str, Any]) -> int | None:
    """The free days a subscription session starts with: its own, else its price's."""
    if session["mode"] != "subscription":
        return None
    days = session["_subscription_data"].get("trial_period_days")
    if days:
        return int(days)
    for line in emu.state.line_items.get(session["id"], []):
        recurring = line["price"]["recurring"]
        if recurring and recurring.get("trial_period_days"):
            return int(recurring["trial_period_days"])
    return None


@route(
    "POST",
    "/v1/billing_portal/sessions",
    PortalSessionCreateParams,
    honours=("customer", "return_url", "locale"),
)
def create_portal_session(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("customer"):
        raise StripeError(
            400, "Missing required param: customer.", code="parameter_missing", param="customer"
        )
    emu.state.get("customer", params["customer"])
    portal = emu.state.new(
        "billing_portal.session",
        customer=params["customer"],
        return_url=params.get("return_url"),
        locale=params.get("locale"),
        configuration="bpc_emulator",
        flow=None,
        on_behalf_of=None,
    )
    portal["url"] = f"{emu.base_url}/p/session/{portal['id']}"
    return portal
