"""Invoice lines: a period of a subscription item, a proration, a pending invoice item."""

from __future__ import annotations

from typing import Any

from stripekit._shapes import random_id, shape

from ._core import Emulator
from ._parts import part

__all__ = ["invoice_line", "pending_item", "pending_items", "share"]


def invoice_line(
    emu: Emulator,
    sub: dict[str, Any],
    *,
    price: dict[str, Any],
    quantity: int,
    amount: int,
    start: int,
    end: int,
    item: str | None = None,
    description: str | None = None,
    proration: bool = False,
    invoice_item: str | None = None,
) -> dict[str, Any]:
    """One line of a subscription's invoice: a period of an item, or a proration."""
    product = emu.state.objects.get(price["product"], {})
    details = part(
        "line_item",
        "parent",
        "subscription_item_details" if invoice_item is None else "invoice_item_details",
        subscription=sub["id"],
        proration=proration,
        proration_details={"credited_items": None},
    )
    if invoice_item is None:
        details["subscription_item"] = item
    else:
        details["invoice_item"] = invoice_item
    kind = "subscription_item_details" if invoice_item is None else "invoice_item_details"
    line = shape("line_item")
    line.update(
        id=random_id("il_"),
        amount=amount,
        currency=price["currency"],
        description=description or f"{quantity} \u00d7 {product.get('name', price['product'])}",
        discountable=not proration,
        livemode=False,
        metadata={},
        parent=part("line_item", "parent", type=kind, **{kind: details}),
        period={"start": start, "end": end},
        pricing=part(
            "line_item",
            "pricing",
            type="price_details",
            price_details={"price": price["id"], "product": price["product"]},
            unit_amount_decimal=str(price["unit_amount"]),
        ),
        quantity=quantity,
        quantity_decimal=str(quantity),
        subscription=sub["id"],
        subtotal=amount,
    )
    return line


def share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole``, rounded half up to the minor unit (Stripe's prorations)."""
    return (2 * amount * part + whole) // (2 * whole) if whole else 0


def pending_item(emu: Emulator, sub: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    """An invoice item waiting for the subscription's next invoice (``invoiceitem.created``)."""
    details = line["parent"]["subscription_item_details"]
    ii = emu.state.new(
        "invoiceitem",
        amount=line["amount"],
        currency=line["currency"],
        customer=sub["customer"],
        date=emu.state.clock.now(),
        description=line["description"],
        discountable=False,
        invoice=None,
        parent=part(
            "invoiceitem",
            "parent",
            type="subscription_details",
            subscription_details=part(
                "invoiceitem",
                "parent",
                "subscription_details",
                subscription=sub["id"],
                subscription_item=details["subscription_item"],
            ),
        ),
        period=dict(line["period"]),
        pricing=dict(line["pricing"]),
        proration=details["proration"],
        proration_details={"credited_items": None},
        quantity=line["quantity"],
        quantity_decimal=str(line["quantity"]),
        net_amount=line["amount"],
        test_clock=sub.get("test_clock"),
        _subscription=sub["id"],
    )
    # On an invoice, the item is a line that names it.
    kind = "invoice_item_details"
    ii["_line"] = {
        **line,
        "id": random_id("il_"),
        "parent": part(
            "line_item",
            "parent",
            type=kind,
            **{
                kind: part(
                    "line_item",
                    "parent",
                    kind,
                    invoice_item=ii["id"],
                    proration=details["proration"],
                    proration_details={"credited_items": None},
                    subscription=sub["id"],
                )
            },
        ),
    }
    emu.emit("invoiceitem.created", ii)
    return ii


def pending_items(
    emu: Emulator, customer: str, subscription: str | None = None
) -> list[dict[str, Any]]:
    """Invoice items on no invoice yet (a subscription's, or all the customer's), oldest first."""
    return [
        ii
        for ii in reversed(emu.state.all("invoiceitem"))
        if ii["invoice"] is None
        and ii["customer"] == customer
        and (subscription is None or ii["_subscription"] == subscription)
    ]
