"""Plan changes: the items a subscription would have after ``items=[...]``, and what is prorated.

Shared by the subscription update and the invoice preview, so that a preview's
proration is the update's to the cent (given the same ``proration_date``).
Stripe prorates by the second: the unused part of the period at the old
price comes back as a credit, the rest of the period at the new price is
charged, each line rounded to the minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ._core import Emulator, as_bool, as_int, metadata_update
from ._invoice_lines import invoice_line, share
from ._periods import items_of, new_item, period
from ._wire import StripeError

__all__ = ["Plan", "plan_items", "proration_date", "prorations"]


@dataclass
class Plan:
    """A subscription's items after a change, and each item that changed: ``(before, after)``."""

    items: list[dict[str, Any]]
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]]

    def interval(self) -> tuple[str, int]:
        """The billing interval the items share (Stripe requires them to)."""
        recurring = self.items[0]["price"]["recurring"]
        return recurring["interval"], recurring["interval_count"]


def plan_items(
    emu: Emulator, sub: dict[str, Any], given: list[dict[str, Any]], *, param: str = "items"
) -> Plan:
    """What ``items=given`` does to ``sub``'s items, without changing ``sub``.

    An entry with an ``id`` changes that item (``price``, ``quantity``,
    ``metadata``) or removes it (``deleted``); one without adds an item.
    A new price sets the quantity to 1 unless one is given, as on Stripe.
    """
    current = {item["id"]: item for item in items_of(sub)}
    after = dict(current)
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    start, end = period(sub)
    for i, entry in enumerate(given):
        where = f"{param}[{i}]"
        item_id = entry.get("id")
        if item_id is not None and item_id not in current:
            raise StripeError(
                400,
                f"Invalid {where}[id]: {item_id} is not an item of this subscription.",
                param=f"{where}[id]",
            )
        old = current.get(item_id) if item_id else None
        if as_bool(entry, "deleted"):
            if old is None:
                raise StripeError(
                    400, f"{where}[deleted] needs the id of the item to delete.", param=where
                )
            del after[old["id"]]
            changes.append((old, None))
            continue
        price = _price(emu, sub, entry, old, where)
        quantity = as_int(
            entry,
            "quantity",
            default=1 if old is None or price["id"] != old["price"]["id"] else old["quantity"],
            path=f"{where}[quantity]",
        )
        if quantity < 0:
            raise StripeError(400, "Quantity must be at least 0.", param=f"{where}[quantity]")
        if old is not None and price["id"] == old["price"]["id"] and quantity == old["quantity"]:
            new = dict(old)
        else:
            new = new_item(emu, sub, price, quantity, start, end)
            if old is not None:
                new.update(id=old["id"], created=old["created"], metadata=dict(old["metadata"]))
            changes.append((old, new))
        if "metadata" in entry:
            new["metadata"] = metadata_update(new["metadata"], entry["metadata"])
        after[new["id"]] = new
    if not after:
        raise StripeError(400, "A subscription must keep at least one item.", param=param)
    plan = Plan(list(after.values()), changes)
    if len({_interval(item) for item in plan.items}) > 1:
        raise StripeError(
            400,
            "All prices on a subscription must have the same `recurring.interval` and "
            "`recurring.interval_count`.",
            param=param,
        )
    return plan


def _interval(item: dict[str, Any]) -> tuple[str, int]:
    recurring = item["price"]["recurring"]
    return recurring["interval"], recurring["interval_count"]


def _price(
    emu: Emulator,
    sub: dict[str, Any],
    entry: dict[str, Any],
    old: dict[str, Any] | None,
    where: str,
) -> dict[str, Any]:
    if not entry.get("price"):
        if old is None:
            raise StripeError(
                400,
                f"Missing required param: {where}[price].",
                code="parameter_missing",
                param=f"{where}[price]",
            )
        return emu.state.objects[old["price"]["id"]]
    price = emu.state.get("price", entry["price"], param=f"{where}[price]")
    if not price["recurring"]:
        raise StripeError(
            400,
            f"The price specified ({price['id']}) is not recurring: a subscription item "
            "needs a recurring price.",
            param=f"{where}[price]",
        )
    if price["currency"] != sub["currency"]:
        raise StripeError(
            400,
            f"The price specified is in {price['currency']}, but this subscription is in "
            f"{sub['currency']}.",
            param=f"{where}[price]",
        )
    if not price["active"]:
        raise StripeError(400, f"The price `{price['id']}` is not active.", param=f"{where}[price]")
    return price


def proration_date(emu: Emulator, sub: dict[str, Any], given: Any, *, param: str) -> int:
    """When to prorate from: ``given``, else now; it must fall within the current period."""
    if given is None or given == "":
        return emu.state.clock.now()
    moment = as_int({param: given}, param)
    start, end = period(sub)
    if not start <= moment <= end:
        raise StripeError(
            400,
            f"{param} must fall within the subscription's current period ({start} to {end}).",
            param=param,
        )
    return moment


def prorations(
    emu: Emulator,
    sub: dict[str, Any],
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]],
    at: int,
    *,
    until: int | None = None,
) -> list[dict[str, Any]]:
    """Proration lines for ``changes`` made at ``at``: a credit for each old item's unused
    time, a charge for each new item's remaining time, to the period's end (or ``until``).

    None during a trial: nothing was paid, nothing is owed.
    """
    if sub["status"] == "trialing":
        return []
    start, end = period(sub)
    end = end if until is None else until
    lines: list[dict[str, Any]] = []
    for before, after in changes:
        for item, sign, words in ((before, -1, "Unused time on"), (after, 1, "Remaining time on")):
            if item is None or at >= end:
                continue
            full = item["price"]["unit_amount"] * item["quantity"]
            amount = sign * share(full, end - at, period(sub)[1] - start)
            product = emu.state.objects.get(item["price"]["product"], {})
            lines.append(
                invoice_line(
                    emu,
                    sub,
                    price=item["price"],
                    quantity=item["quantity"],
                    amount=amount,
                    start=at,
                    end=end,
                    item=item["id"],
                    proration=True,
                    description=f"{words} {item['quantity']} \u00d7 "
                    f"{product.get('name', item['price']['product'])} after {_day(at)}",
                )
            )
    return lines


def _day(moment: int) -> str:
    when = datetime.fromtimestamp(moment, UTC)
    return f"{when.day:02d} {when:%b %Y}"
