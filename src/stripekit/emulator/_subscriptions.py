"""Subscriptions and their invoices: start, renew with the clock, end a trial, cancel."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any

from stripe.params import (
    InvoiceListParams,
    SubscriptionCancelParams,
    SubscriptionListParams,
    SubscriptionUpdateParams,
)

from stripekit._shapes import shape

from ._core import Emulator, as_bool, metadata_update
from ._parts import part
from ._routes import route
from ._wire import StripeError

__all__ = [
    "cancel_subscription",
    "is_live",
    "period_end",
    "renew_due",
    "resume_subscription",
    "start_subscription",
]

_LIVE = ("active", "trialing", "past_due")
_TRIAL_WARNING = 3 * 86400
"""Stripe sends ``customer.subscription.trial_will_end`` three days before a trial ends."""


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """``timestamp`` moved on by ``count`` intervals, months by the calendar (Jan 31 → Feb 28)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    if interval in ("day", "week"):
        return int((moment + timedelta(days=count * (7 if interval == "week" else 1))).timestamp())
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def start_subscription(
    emu: Emulator,
    *,
    customer: str,
    items: list[tuple[dict[str, Any], int]],
    trial_days: int | None,
    metadata: dict[str, str],
    payment_method: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new subscription and its first invoice, paid; events in Stripe's order."""
    now = emu.state.clock.now()
    first_price = items[0][0]
    recurring = first_price["recurring"]
    trial_end = now + trial_days * 86400 if trial_days else None
    period_end = trial_end or add_interval(now, recurring["interval"], recurring["interval_count"])
    sub = emu.state.new(
        "subscription",
        customer=customer,
        currency=first_price["currency"],
        status="trialing" if trial_end else "active",
        start_date=now,
        billing_cycle_anchor=period_end if trial_end else now,
        collection_method="charge_automatically",
        cancel_at_period_end=False,
        default_payment_method=payment_method,
        metadata=metadata,
        trial_start=now if trial_end else None,
        trial_end=trial_end,
        items={"object": "list", "data": [], "has_more": False, "url": ""},
        automatic_tax=part("subscription", "automatic_tax"),
        billing_mode=part("subscription", "billing_mode", type="classic"),
        invoice_settings=part(
            "subscription",
            "invoice_settings",
            issuer=part("subscription", "invoice_settings", "issuer", type="self"),
        ),
        payment_settings=part(
            "subscription", "payment_settings", save_default_payment_method="off"
        ),
    )
    sub["items"]["url"] = f"/v1/subscription_items?subscription={sub['id']}"
    for price, quantity in items:
        item = emu.state.new(
            "subscription_item",
            price=emu.state.public(price),
            quantity=quantity,
            subscription=sub["id"],
            current_period_start=now,
            current_period_end=period_end,
            discounts=[],
            tax_rates=[],
        )
        item["plan"] = _plan(price)
        sub["items"]["data"].append(emu.state.public(item))
    emu.emit("customer.subscription.created", sub)
    invoice = _invoice(emu, sub, "subscription_create", now, period_end, free=trial_end is not None)
    sub["latest_invoice"] = invoice["id"]
    _warn_of_trial_end(emu, sub)  # a trial of three days or less: at once
    return sub, invoice


def is_live(sub: dict[str, Any]) -> bool:
    """Whether the subscription still runs (it can renew, be changed or be canceled)."""
    return sub["status"] in _LIVE


def _warn_of_trial_end(emu: Emulator, sub: dict[str, Any]) -> None:
    """``customer.subscription.trial_will_end``, once, when the trial has 3 days or less left."""
    if sub["status"] != "trialing" or sub.get("_trial_warned"):
        return
    if sub["trial_end"] - emu.state.clock.now() <= _TRIAL_WARNING:
        sub["_trial_warned"] = True
        emu.emit("customer.subscription.trial_will_end", sub)


def _plan(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` Stripe still puts beside a subscription item's price."""
    recurring = price["recurring"]
    plan = shape("plan")
    plan.update(
        id=price["id"],
        active=price["active"],
        amount=price["unit_amount"],
        amount_decimal=str(price["unit_amount"]),
        billing_scheme="per_unit",
        created=price["created"],
        currency=price["currency"],
        interval=recurring["interval"],
        interval_count=recurring["interval_count"],
        livemode=False,
        metadata={},
        product=price["product"],
        usage_type="licensed",
    )
    return plan


def _period(sub: dict[str, Any]) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def _set_period(sub: dict[str, Any], start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end


def _invoice(
    emu: Emulator, sub: dict[str, Any], reason: str, start: int, end: int, *, free: bool = False
) -> dict[str, Any]:
    """An invoice for one period of ``sub``, created, finalized and paid (with its events)."""
    customer = emu.state.objects.get(sub["customer"], {})
    lines: list[dict[str, Any]] = []
    total = 0
    for item in sub["items"]["data"]:
        price = item["price"]
        amount = 0 if free else price["unit_amount"] * item["quantity"]
        total += amount
        product = emu.state.objects.get(price["product"], {})
        line = shape("line_item")
        line.update(
            id=f"il_{item['id'][3:]}_{len(lines)}",
            amount=amount,
            currency=price["currency"],
            description=f"{item['quantity']} x {product.get('name', price['product'])}"
            + (" (trial)" if free else ""),
            discountable=True,
            livemode=False,
            parent=part(
                "line_item",
                "parent",
                type="subscription_item_details",
                subscription_item_details=part(
                    "line_item",
                    "parent",
                    "subscription_item_details",
                    subscription=sub["id"],
                    subscription_item=item["id"],
                    proration=False,
                    proration_details={"credited_items": None},
                ),
            ),
            period={"start": start, "end": end},
            pricing=part(
                "line_item",
                "pricing",
                type="price_details",
                price_details={"price": price["id"], "product": price["product"]},
                unit_amount_decimal=str(0 if free else price["unit_amount"]),
            ),
            quantity=item["quantity"],
            quantity_decimal=str(item["quantity"]),
            subscription=sub["id"],
            subtotal=amount,
        )
        lines.append(line)
    count = sum(1 for i in emu.state.all("invoice") if i.get("customer") == sub["customer"])
    now = emu.state.clock.now()
    invoice = emu.state.new(
        "invoice",
        customer=sub["customer"],
        customer_email=customer.get("email"),
        customer_name=customer.get("name"),
        subscription=sub["id"],
        parent=part(
            "invoice",
            "parent",
            type="subscription_details",
            subscription_details=part(
                "invoice",
                "parent",
                "subscription_details",
                subscription=sub["id"],
                metadata=dict(sub["metadata"]),
            ),
        ),
        billing_reason=reason,
        collection_method="charge_automatically",
        currency=sub["currency"],
        status="draft",
        number=f"{customer.get('invoice_prefix', 'EMU')}-{count + 1:04d}",
        period_start=start,
        period_end=end,
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        amount_due=total,
        amount_paid=0,
        amount_remaining=total,
        lines={"object": "list", "data": lines, "has_more": False, "url": ""},
        account_country="US",
        account_name="stripekit emulator",
        auto_advance=True,
        attempt_count=0,
        attempted=False,
        status_transitions=part("invoice", "status_transitions"),
    )
    invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
    for line in invoice["lines"]["data"]:
        line["invoice"] = invoice["id"]
    emu.emit("invoice.created", invoice)
    invoice.update(
        status="open", status_transitions={**invoice["status_transitions"], "finalized_at": now}
    )
    emu.emit("invoice.finalized", invoice)
    invoice.update(
        status="paid",
        amount_paid=total,
        amount_remaining=0,
        attempted=True,
        attempt_count=1,
        status_transitions={**invoice["status_transitions"], "paid_at": now},
    )
    emu.emit("invoice.paid", invoice)
    emu.emit("invoice.payment_succeeded", invoice)
    return invoice


def renew_due(emu: Emulator) -> None:
    """Every subscription whose period ended by now renews, ends its trial or ends.

    A trial that now has three days or less left says so first
    (``customer.subscription.trial_will_end``), as Stripe does.
    """
    now = emu.state.clock.now()
    for sub in sorted(emu.state.all("subscription"), key=lambda s: s["_seq"]):
        _warn_of_trial_end(emu, sub)
        while sub["status"] in _LIVE and _period(sub)[1] <= now:
            _roll_over(emu, sub)


def _roll_over(emu: Emulator, sub: dict[str, Any]) -> None:
    end = _period(sub)[1]
    if sub["cancel_at_period_end"]:
        _end(emu, sub, at=end)
        return
    recurring = sub["items"]["data"][0]["price"]["recurring"]
    new_end = add_interval(end, recurring["interval"], recurring["interval_count"])
    previous: dict[str, Any] = {"items": {"data": [dict(i) for i in sub["items"]["data"]]}}
    if sub["status"] == "trialing":
        previous["status"] = "trialing"
        sub["status"] = "active"
    _set_period(sub, end, new_end)
    invoice = _invoice(emu, sub, "subscription_cycle", end, new_end)
    previous["latest_invoice"] = sub["latest_invoice"]
    sub["latest_invoice"] = invoice["id"]
    emu.emit("customer.subscription.updated", sub, previous)


def _end(
    emu: Emulator, sub: dict[str, Any], *, at: int, reason: str = "cancellation_requested"
) -> None:
    sub.update(
        status="canceled",
        ended_at=at,
        canceled_at=sub.get("canceled_at") or at,
        cancellation_details=part("subscription", "cancellation_details", reason=reason),
    )
    emu.emit("customer.subscription.deleted", sub)


def cancel_subscription(
    emu: Emulator, sub: dict[str, Any], *, at_period_end: bool
) -> dict[str, Any]:
    """Cancel now (``customer.subscription.deleted``) or at the period's end (``.updated``)."""
    if sub["status"] not in _LIVE:
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="id",
        )
    if at_period_end:
        if not sub["cancel_at_period_end"]:
            sub.update(
                cancel_at_period_end=True,
                cancel_at=_period(sub)[1],
                canceled_at=emu.state.clock.now(),
            )
            emu.emit(
                "customer.subscription.updated",
                sub,
                {"cancel_at_period_end": False, "cancel_at": None, "canceled_at": None},
            )
        return sub
    _end(emu, sub, at=emu.state.clock.now())
    return sub


def resume_subscription(emu: Emulator, sub: dict[str, Any]) -> dict[str, Any]:
    """Undo a cancellation at the period's end (``customer.subscription.updated``)."""
    if sub["cancel_at_period_end"] and sub["status"] in _LIVE:
        previous = {k: sub[k] for k in ("cancel_at_period_end", "cancel_at", "canceled_at")}
        sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
        emu.emit("customer.subscription.updated", sub, previous)
    return sub


def period_end(sub: dict[str, Any]) -> int:
    """When the subscription's current period (or trial) ends."""
    return _period(sub)[1]


@route("GET", "/v1/subscriptions/{id}")
def retrieve_subscription(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("subscription", id)


@route("GET", "/v1/subscriptions", SubscriptionListParams, honours=("status", "customer", "price"))
def list_subscriptions(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("subscription")
    status = params.get("status")
    if status != "all":
        items = (
            [s for s in items if s["status"] == status]
            if status
            else [s for s in items if s["status"] != "canceled"]
        )
    if params.get("customer"):
        items = [s for s in items if s["customer"] == params["customer"]]
    if params.get("price"):
        items = [
            s for s in items if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
        ]
    return emu.list_of(items, params, "/v1/subscriptions", "subscription")


@route(
    "POST",
    "/v1/subscriptions/{id}",
    SubscriptionUpdateParams,
    honours=("cancel_at_period_end", "metadata", "trial_end=now"),
)
def update_subscription(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    sub = emu.state.get("subscription", id)
    if "cancel_at_period_end" in params:
        if as_bool(params, "cancel_at_period_end"):
            return cancel_subscription(emu, sub, at_period_end=True)
        resume_subscription(emu, sub)
    if "metadata" in params:
        before = dict(sub["metadata"])
        sub["metadata"] = metadata_update(sub["metadata"], params["metadata"])
        if before != sub["metadata"]:
            emu.emit("customer.subscription.updated", sub, {"metadata": before})
    if params.get("trial_end") == "now" and sub["status"] == "trialing":
        _set_period(sub, _period(sub)[0], emu.state.clock.now())
        sub["trial_end"] = emu.state.clock.now()
        _warn_of_trial_end(emu, sub)
        _roll_over(emu, sub)
    return sub


@route("DELETE", "/v1/subscriptions/{id}", SubscriptionCancelParams, honours=())
def delete_subscription(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return cancel_subscription(emu, emu.state.get("subscription", id), at_period_end=False)


@route("GET", "/v1/invoices/{id}")
def retrieve_invoice(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("invoice", id)


@route("GET", "/v1/invoices", InvoiceListParams, honours=("customer", "subscription", "status"))
def list_invoices(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("invoice")
    for name in ("customer", "subscription", "status"):
        if params.get(name):
            items = [i for i in items if i.get(name) == params[name]]
    return emu.list_of(items, params, "/v1/invoices", "invoice")
