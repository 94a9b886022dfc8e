"""Checkout Sessions and billing portal sessions, and paying a session on the hosted page."""

from __future__ import annotations

from functools import partial
from typing import Any

from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionLineItemListParams,
    SessionListParams,
)

from stripekit._shapes import random_id

from ._computed import computed
from ._core import Emulator, as_bool, as_int, matching, metadata_update, required
from ._parts import part
from ._routes import route
from ._schedule import Pending, timer
from ._state import State
from ._wire import StripeError

__all__ = ["expire", "trial_days", "trial_end"]

_DAY = 86400


@route(
    "POST",
    "/v1/checkout/sessions",
    SessionCreateParams,
    honours=(
        "mode=payment|subscription|setup",
        "line_items[price]",
        "line_items[quantity]",
        "success_url",
        "cancel_url",
        "ui_mode=hosted_page|embedded_page",
        "return_url",
        "client_reference_id",
        "currency",
        "customer",
        "customer_email",
        # Stripe's default in payment mode, if_required, makes no Customer; the
        # emulator always makes one (docs/emulator.md), so only `always` is honoured.
        "customer_creation=always",
        "allow_promotion_codes",
        "automatic_tax[enabled]",
        "billing_address_collection=auto",
        "expires_at",
        "locale",
        "metadata",
        "payment_method_collection",
        "subscription_data[metadata]",
        "subscription_data[trial_period_days]",
        "subscription_data[trial_end]",
        "subscription_data[trial_settings][end_behavior][missing_payment_method]",
        "payment_intent_data[metadata]",
        "payment_intent_data[description]",
        "setup_intent_data[metadata]",
        "setup_intent_data[description]",
    ),
)
def create_session(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    mode = params.get("mode")
    if mode not in ("payment", "subscription", "setup"):
        raise StripeError(
            400, "Missing required param: mode.", code="parameter_missing", param="mode"
        )
    if params.get("customer") and params.get("customer_email"):
        raise StripeError(
            400,
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if params.get("customer"):
        emu.state.get("customer", params["customer"], param="customer")
    if mode == "subscription" and "customer_creation" in params:
        raise StripeError(
            400,
            "customer_creation can only be used in `payment` and `setup` mode (a "
            "subscription always makes a customer).",
            param="customer_creation",
        )
    ui_mode = _ui_mode(params)
    now = emu.state.clock.now()
    if mode == "setup":
        if params.get("line_items"):
            raise StripeError(400, "line_items cannot be used in `setup` mode.", param="line_items")
        lines: list[tuple[dict[str, Any], int]] = []
        currency = str(params.get("currency") or "").lower() or None
        total = None
    else:
        lines = _line_items(emu, params.get("line_items") or [], mode)
        currency = lines[0][0]["currency"]
        if params.get("currency") and str(params["currency"]).lower() != currency:
            raise StripeError(
                400,
                f"The line items are priced in {currency}, not in {params['currency']}: give "
                "prices in that currency, or leave currency out.",
                param="currency",
            )
        total = sum(price["unit_amount"] * quantity for price, quantity in lines)
    subscription_data = params.get("subscription_data") or {}
    session = emu.state.new(
        "checkout.session",
        mode=mode,
        status="open",
        payment_status="no_payment_required" if mode == "setup" else "unpaid",
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
        expires_at=_expires_at(params, now),
        payment_method_types=["card"],
        payment_method_collection=params.get("payment_method_collection") or "always",
        billing_address_collection=params.get("billing_address_collection"),
        ui_mode=ui_mode,
        return_url=params.get("return_url"),
        client_secret=None,
        custom_fields=[],
        custom_text=part("checkout.session", "custom_text"),
        total_details=part("checkout.session", "total_details", amount_shipping=0),
        _subscription_data=subscription_data,
        _payment_intent_data=params.get("payment_intent_data") or {},
        _setup_intent_data=params.get("setup_intent_data") or {},
    )
    session["_trial"] = _trial(emu, session, subscription_data, lines, now)
    if ui_mode == "embedded_page":
        # Stripe.js mounts it with this secret (the emulator's stand-in, at /v3/).
        session["client_secret"] = f"{session['id']}_secret_{random_id('', 24)}"
        session["url"] = None
    else:
        session["url"] = f"{emu.base_url}/c/pay/{session['id']}"
    emu.state.line_items[session["id"]] = [
        _line_item(emu, price, quantity) for price, quantity in lines
    ]
    return session


def _ui_mode(params: dict[str, Any]) -> str:
    """hosted_page (success and cancel URLs) or embedded_page (a return URL instead)."""
    ui_mode = str(params.get("ui_mode") or "hosted_page")
    if ui_mode == "embedded_page":
        for refused in ("success_url", "cancel_url"):
            if params.get(refused):
                raise StripeError(
                    400,
                    f"`{refused}` is not allowed when `ui_mode` is `embedded_page`: give "
                    "`return_url` instead.",
                    param=refused,
                )
        if not params.get("return_url"):
            raise StripeError(
                400,
                "`return_url` is required when `ui_mode` is `embedded_page`.",
                code="parameter_missing",
                param="return_url",
            )
    elif params.get("return_url"):
        raise StripeError(
            400,
            "`return_url` can only be used when `ui_mode` is `embedded_page`; a hosted "
            "session takes `success_url`.",
            param="return_url",
        )
    return ui_mode


def _expires_at(params: dict[str, Any], now: int) -> int:
    """Stripe's window: 30 minutes to 24 hours from now (24 hours when not given)."""
    if "expires_at" not in params:
        return now + _DAY
    expires_at = as_int(params, "expires_at")
    if not now + 1800 <= expires_at <= now + _DAY:
        raise StripeError(
            400,
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
            "Session creation.",
            param="expires_at",
        )
    return expires_at


def _trial(
    emu: Emulator,
    session: dict[str, Any],
    data: dict[str, Any],
    lines: list[tuple[dict[str, Any], int]],
    now: int,
) -> dict[str, int] | None:
    """The subscription's free trial: ``{"end": timestamp}`` or ``{"days": n}`` from payment.

    ``subscription_data[trial_end]``, else ``[trial_period_days]``, else the first
    price's ``recurring[trial_period_days]``; none outside subscription mode.
    """
    if session["mode"] != "subscription":
        if data:
            raise StripeError(
                400,
                "subscription_data can only be used in `subscription` mode.",
                param="subscription_data",
            )
        return None
    if data.get("trial_end") and data.get("trial_period_days"):
        raise StripeError(
            400,
            "You may only specify one of these parameters: subscription_data[trial_end], "
            "subscription_data[trial_period_days].",
            param="subscription_data[trial_end]",
        )
    if data.get("trial_end"):
        trial_end = as_int(data, "trial_end", path="subscription_data[trial_end]")
        if trial_end < now + 2 * _DAY:
            raise StripeError(
                400,
                "subscription_data[trial_end] must be at least 48 hours in the future.",
                param="subscription_data[trial_end]",
            )
        return {"end": trial_end}
    days = data.get("trial_period_days")
    if not days:
        days = next(
            (
                p["recurring"]["trial_period_days"]
                for p, _ in lines
                if p["recurring"] and p["recurring"].get("trial_period_days")
            ),
            None,
        )
    return {"days": int(days)} if days else None


def trial_end(emu: Emulator, session: dict[str, Any]) -> int | None:
    """When a subscription started now from this session would end its trial."""
    trial = session.get("_trial")
    if not trial:
        return None
    end: int = trial.get("end") or emu.state.clock.now() + trial["days"] * _DAY
    return end


def trial_days(emu: Emulator, session: dict[str, Any]) -> int | None:
    """The free days a subscription session starts with (rounded up), for the pages."""
    end = trial_end(emu, session)
    return None if end is None else -(-(end - emu.state.clock.now()) // _DAY)


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
    items = matching(items, params, "customer", "status", "payment_intent", "subscription")
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
    expire(emu, session)
    return session


@timer
def _expiries(emu: Emulator) -> Pending:
    """Open sessions expire at their ``expires_at`` (``checkout.session.expired``)."""
    for session in reversed(emu.state.all("checkout.session")):
        if session["status"] == "open":
            yield session["expires_at"], partial(expire, emu, session)


def expire(emu: Emulator, session: dict[str, Any]) -> None:
    """The session can no longer be paid (``checkout.session.expired``)."""
    session["status"] = "expired"
    emu.emit("checkout.session.expired", session)


@route(
    "POST",
    "/v1/billing_portal/sessions",
    PortalSessionCreateParams,
    honours=("customer", "return_url", "locale"),
)
def create_portal_session(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    required(params, "customer")
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
