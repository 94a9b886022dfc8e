"""A subscription's shape over time: its items, their period, the interval between bills."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any

from stripekit._shapes import shape

from ._core import Emulator
from ._invoice_lines import invoice_line

__all__ = [
    "add_interval",
    "item_lines",
    "items_of",
    "new_item",
    "period",
    "period_end",
    "set_period",
]


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


def period(sub: dict[str, Any]) -> tuple[int, int]:
    """The current period (or trial), as Stripe keeps it on each item."""
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def period_end(sub: dict[str, Any]) -> int:
    """When the subscription's current period (or trial) ends."""
    return period(sub)[1]


def items_of(sub: dict[str, Any]) -> list[dict[str, Any]]:
    """The subscription's items (``sub["items"].data``)."""
    items: list[dict[str, Any]] = sub["items"]["data"]
    return items


def set_period(sub: dict[str, Any], start: int, end: int) -> None:
    for item in items_of(sub):
        item["current_period_start"], item["current_period_end"] = start, end


def new_item(
    emu: Emulator, sub: dict[str, Any], price: dict[str, Any], quantity: int, start: int, end: int
) -> dict[str, Any]:
    """A subscription item (kept inside its subscription, as Stripe shows it)."""
    item = emu.state.new(
        "subscription_item",
        price=emu.state.public(price),
        quantity=quantity,
        subscription=sub["id"],
        current_period_start=start,
        current_period_end=end,
        discounts=[],
        tax_rates=[],
    )
    del emu.state.objects[item["id"]]
    item["plan"] = _plan(price)
    return emu.state.public(item)


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


def item_lines(
    emu: Emulator,
    sub: dict[str, Any],
    *,
    free: bool = False,
    items: list[dict[str, Any]] | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[dict[str, Any]]:
    """One line per item (default: the subscription's) for a period (default: the current
    one), at zero during a trial."""
    current = period(sub)
    start = current[0] if start is None else start
    end = current[1] if end is None else end
    return [
        invoice_line(
            emu,
            sub,
            price=item["price"],
            quantity=item["quantity"],
            amount=0 if free else item["price"]["unit_amount"] * item["quantity"],
            start=start,
            end=end,
            item=item["id"],
            description=None if not free else f"Trial period for {_product_name(emu, item)}",
        )
        for item in (items_of(sub) if items is None else items)
    ]


def _product_name(emu: Emulator, item: dict[str, Any]) -> str:
    product = emu.state.objects.get(item["price"]["product"], {})
    return str(product.get("name", item["price"]["product"]))
