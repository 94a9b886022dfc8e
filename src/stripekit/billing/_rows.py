"""Stripe objects as the mirror's rows, and rows as what the queries answer with.

Pure functions, no I/O. Each reads the fields of the object as the API version
the kit speaks renders it, and the older places a field lived in (a
subscription's period on the subscription itself, an invoice's price on its
line) so that events rendered with an older API version read the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from stripekit._metadata_keys import (
    METADATA_PRICE,
    METADATA_PRODUCT,
    METADATA_QUANTITY,
    METADATA_USER,
)

from ._models import Purchase, PurchaseLine, Subscription, SubscriptionItem
from ._products import ProductKeys
from ._store import Kind, Row

__all__ = [
    "charge_row",
    "customer_row",
    "dispute_row",
    "intent_purchase_row",
    "intent_purchase_status",
    "invoice_price_ids",
    "invoice_row",
    "is_kit_intent",
    "purchase",
    "purchase_lines",
    "purchase_row",
    "refund_row",
    "row_for",
    "subscription",
    "subscription_row",
]

PAID = ("paid", "no_payment_required")


def _id(value: Any) -> str | None:
    """An id, whether the field holds it or the expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _list(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        value = value.get("data")
    return [item for item in value or [] if isinstance(item, Mapping)]


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def user_in(obj: Mapping[str, Any]) -> str | None:
    """The app user an object names in its metadata (``stripekit_user``)."""
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        user = metadata.get(METADATA_USER)
        if isinstance(user, str) and user:
            return user
    return None


# -- objects → rows --------------------------------------------------------------------------


def customer_row(obj: Mapping[str, Any], version: int) -> Row:
    """A customer (or a deleted customer)."""
    data = {"name": obj.get("name"), "livemode": bool(obj.get("livemode"))}
    columns = {"email": obj.get("email"), "deleted": bool(obj.get("deleted"))}
    return Row(Kind.CUSTOMER, str(obj["id"]), columns, data, version)


def subscription_row(obj: Mapping[str, Any], keys: ProductKeys, version: int) -> Row:
    """A subscription, its items filed under the catalog's product keys."""
    items = []
    periods: list[tuple[Any, Any]] = []
    for item in _list(obj.get("items")):
        price = item.get("price") or item.get("plan")
        price_id = _id(price)
        if price_id is None:
            continue
        entry: dict[str, Any] = {
            "price": price_id,
            "product": keys.of_price(price if isinstance(price, Mapping) else price_id),
            "quantity": _int(item.get("quantity")) or 1,
        }
        if isinstance(price, Mapping):
            # What the account page shows ("$12.00 / month") without asking Stripe.
            recurring = price.get("recurring")
            recurring = recurring if isinstance(recurring, Mapping) else {}
            amount = price.get("unit_amount")
            entry["unit_amount"] = amount if isinstance(amount, int) else None
            entry["currency"] = price.get("currency")
            entry["interval"] = recurring.get("interval")
            entry["interval_count"] = _int(recurring.get("interval_count")) or 1
            entry["lookup_key"] = price.get("lookup_key")
        items.append(entry)
        periods.append((item.get("current_period_start"), item.get("current_period_end")))
    # The period is on each item in current API versions; on the subscription before.
    start = obj.get("current_period_start") or (periods[0][0] if periods else None)
    end = obj.get("current_period_end") or (periods[0][1] if periods else None)
    data = {
        "items": items,
        "current_period_start": start,
        "current_period_end": end,
        "trial_start": obj.get("trial_start"),
        "trial_end": obj.get("trial_end"),
        "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
        "cancel_at": obj.get("cancel_at"),
        "canceled_at": obj.get("canceled_at"),
        "ended_at": obj.get("ended_at"),
        "latest_invoice": _id(obj.get("latest_invoice")),
        "livemode": bool(obj.get("livemode")),
        "user": user_in(obj),
    }
    columns = {"customer": _id(obj.get("customer")), "status": obj.get("status")}
    return Row(Kind.SUBSCRIPTION, str(obj["id"]), columns, data, version)


def invoice_subscription(obj: Mapping[str, Any]) -> str | None:
    """The subscription an invoice bills, wherever the API version puts it."""
    parent = obj.get("parent")
    if isinstance(parent, Mapping):
        details = parent.get("subscription_details")
        if isinstance(details, Mapping) and _id(details.get("subscription")):
            return _id(details.get("subscription"))
    return _id(obj.get("subscription"))


def invoice_price_ids(obj: Mapping[str, Any]) -> list[str]:
    """The price ids an invoice's lines bill."""
    found = []
    for line in _list(obj.get("lines")):
        price_id = _line_price(line)
        if price_id is not None:
            found.append(price_id)
    return found


def _line_price(line: Mapping[str, Any]) -> str | None:
    pricing = line.get("pricing")
    if isinstance(pricing, Mapping):
        details = pricing.get("price_details")
        if isinstance(details, Mapping) and _id(details.get("price")):
            return _id(details.get("price"))
    return _id(line.get("price")) or _id(line.get("plan"))


def _line_proration(line: Mapping[str, Any]) -> bool:
    parent = line.get("parent")
    if isinstance(parent, Mapping):
        for details in parent.values():
            if isinstance(details, Mapping) and details.get("proration"):
                return True
    return bool(line.get("proration"))


def invoice_row(obj: Mapping[str, Any], keys: ProductKeys, version: int) -> Row:
    """An invoice: its status, amounts and the catalog products its lines bill."""
    lines = []
    for line in _list(obj.get("lines")):
        price_id = _line_price(line)
        lines.append(
            {
                "price": price_id,
                "product": keys.of_price_id(price_id) if price_id else None,
                "quantity": _int(line.get("quantity")) or 1,
                "amount": _int(line.get("amount")),
                "proration": _line_proration(line),
            }
        )
    data = {
        "lines": lines,
        "billing_reason": obj.get("billing_reason"),
        "amount_due": _int(obj.get("amount_due")),
        "amount_paid": _int(obj.get("amount_paid")),
        "currency": obj.get("currency"),
        "livemode": bool(obj.get("livemode")),
    }
    columns = {
        "customer": _id(obj.get("customer")),
        "subscription": invoice_subscription(obj),
        "status": obj.get("status"),
    }
    return Row(Kind.INVOICE, str(obj["id"]), columns, data, version)


def purchase_lines(items: Sequence[Mapping[str, Any]], keys: ProductKeys) -> list[dict[str, Any]]:
    """A session's line items (listed through the API) as the mirror keeps them."""
    lines = []
    for item in items:
        price = item.get("price")
        lines.append(
            {
                "price": _id(price),
                "product": keys.of_price(price if isinstance(price, Mapping) else _id(price)),
                "description": item.get("description") or "",
                "quantity": _int(item.get("quantity")) or 1,
                "amount_subtotal": _int(item.get("amount_subtotal")),
                "amount_total": _int(item.get("amount_total")),
            }
        )
    return lines


def purchase_row(
    session: Mapping[str, Any],
    version: int,
    *,
    lines: list[dict[str, Any]] | None,
    failed: bool,
) -> Row:
    """A Checkout Session; ``lines`` once listed, ``failed`` once its payment failed."""
    totals = session.get("total_details")
    totals = totals if isinstance(totals, Mapping) else {}
    data = {
        "lines": lines,
        "async_failed": failed,
        "currency": session.get("currency"),
        "amount_subtotal": _int(session.get("amount_subtotal")),
        "amount_discount": _int(totals.get("amount_discount")),
        "amount_tax": _int(totals.get("amount_tax")),
        "amount_total": _int(session.get("amount_total")),
        "session_status": session.get("status"),
        "payment_status": session.get("payment_status"),
        "subscription": _id(session.get("subscription")),
        "created": session.get("created"),
        "livemode": bool(session.get("livemode")),
    }
    columns = {
        "customer": _id(session.get("customer")),
        "user_ref": session.get("client_reference_id") or user_in(session),
        "mode": session.get("mode"),
        "status": purchase_status(session, failed),
        "payment_intent": _id(session.get("payment_intent")),
    }
    return Row(Kind.PURCHASE, str(session["id"]), columns, data, version)


def purchase_status(session: Mapping[str, Any], failed: bool) -> str:
    """paid, pending or failed (open or expired: a checkout never completed, not kept)."""
    status = session.get("status")
    if status == "expired":
        return "expired"
    if status != "complete":
        return "open"
    if session.get("payment_status") in PAID:
        return "paid"
    return "failed" if failed else "pending"


def is_kit_intent(intent: Mapping[str, Any]) -> bool:
    """Whether a PaymentIntent is a purchase of its own: made by ``kit.payments`` (the
    Payment Element), which alone puts the quantity in its metadata. A Checkout
    Session's intent is its session's purchase; an invoice's, its subscription's."""
    metadata = intent.get("metadata")
    return isinstance(metadata, Mapping) and isinstance(metadata.get(METADATA_QUANTITY), str)


def intent_purchase_status(intent: Mapping[str, Any]) -> str | None:
    """paid, pending or failed; None while it is no purchase yet (waiting for a card,
    for 3-D Secure, or canceled before anything was paid)."""
    status = intent.get("status")
    if status in ("succeeded", "requires_capture"):
        return "paid"
    if status == "processing":
        return "pending"
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return "failed"
    return None


def intent_purchase_row(intent: Mapping[str, Any], keys: ProductKeys, version: int) -> Row:
    """A PaymentIntent of ``kit.payments`` as a purchase: what its metadata says was bought
    (written by the kit, server-side, from the catalog), for the amount it charged."""
    metadata = intent.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    raw_quantity = str(metadata.get(METADATA_QUANTITY) or "")
    quantity = int(raw_quantity) if raw_quantity.isdigit() and len(raw_quantity) < 10 else 1
    key = metadata.get(METADATA_PRODUCT)
    product = keys.product(key if isinstance(key, str) else None)
    amount = _int(intent.get("amount"))
    line = {
        "price": None,
        "price_key": metadata.get(METADATA_PRICE),
        "product": product,
        "description": keys.name(product) if product else str(intent.get("description") or ""),
        "quantity": quantity or 1,
        "amount_subtotal": amount,
        "amount_total": amount,
    }
    status = intent_purchase_status(intent)
    data = {
        "lines": [line],
        "async_failed": status == "failed",
        "currency": intent.get("currency"),
        "amount_subtotal": amount,
        "amount_discount": 0,
        "amount_tax": 0,
        "amount_total": amount,
        "session_status": intent.get("status"),
        "payment_status": "paid" if status == "paid" else "unpaid",
        "subscription": None,
        "created": intent.get("created"),
        "livemode": bool(intent.get("livemode")),
    }
    columns = {
        "customer": _id(intent.get("customer")),
        "user_ref": user_in(intent),
        "mode": "payment",
        "status": status,
        "payment_intent": str(intent["id"]),
    }
    return Row(Kind.PURCHASE, str(intent["id"]), columns, data, version)


def charge_row(obj: Mapping[str, Any], version: int) -> Row:
    data = {
        "amount": _int(obj.get("amount")),
        "amount_refunded": _int(obj.get("amount_refunded")),
        "refunded": bool(obj.get("refunded")),
        "disputed": bool(obj.get("disputed")),
        "status": obj.get("status"),
    }
    columns = {
        "customer": _id(obj.get("customer")),
        "payment_intent": _id(obj.get("payment_intent")),
    }
    return Row(Kind.CHARGE, str(obj["id"]), columns, data, version)


def refund_row(obj: Mapping[str, Any], version: int) -> Row:
    data = {"amount": _int(obj.get("amount")), "reason": obj.get("reason")}
    columns = {
        "charge": _id(obj.get("charge")),
        "payment_intent": _id(obj.get("payment_intent")),
        "status": obj.get("status"),
    }
    return Row(Kind.REFUND, str(obj["id"]), columns, data, version)


def dispute_row(obj: Mapping[str, Any], version: int) -> Row:
    data = {"amount": _int(obj.get("amount")), "reason": obj.get("reason")}
    columns = {
        "charge": _id(obj.get("charge")),
        "payment_intent": _id(obj.get("payment_intent")),
        "status": obj.get("status"),
    }
    return Row(Kind.DISPUTE, str(obj["id"]), columns, data, version)


def row_for(kind: Kind, obj: Mapping[str, Any], keys: ProductKeys, version: int) -> Row:
    """The row of any kind but purchases (whose lines and failure need more than the object)."""
    if kind is Kind.CUSTOMER:
        return customer_row(obj, version)
    if kind is Kind.SUBSCRIPTION:
        return subscription_row(obj, keys, version)
    if kind is Kind.INVOICE:
        return invoice_row(obj, keys, version)
    if kind is Kind.CHARGE:
        return charge_row(obj, version)
    if kind is Kind.REFUND:
        return refund_row(obj, version)
    if kind is Kind.DISPUTE:
        return dispute_row(obj, version)
    raise ValueError(f"no plain row for {kind}")


# -- rows → answers --------------------------------------------------------------------------


def subscription(row: Row, user: str | None, invoice_status: str | None) -> Subscription:
    """The query's view of a subscription row."""
    data = row.data
    return Subscription(
        id=row.id,
        customer=str(row.columns.get("customer") or ""),
        user=user,
        status=str(row.columns.get("status") or ""),
        items=tuple(
            SubscriptionItem(
                item["price"],
                item.get("product"),
                int(item.get("quantity") or 1),
                unit_amount=item.get("unit_amount"),
                currency=item.get("currency"),
                interval=item.get("interval"),
                interval_count=int(item.get("interval_count") or 1),
                lookup_key=item.get("lookup_key"),
            )
            for item in data.get("items") or []
        ),
        current_period_start=_time(data.get("current_period_start")),
        current_period_end=_time(data.get("current_period_end")),
        trial_start=_time(data.get("trial_start")),
        trial_end=_time(data.get("trial_end")),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        cancel_at=_time(data.get("cancel_at")),
        canceled_at=_time(data.get("canceled_at")),
        ended_at=_time(data.get("ended_at")),
        latest_invoice=data.get("latest_invoice"),
        latest_invoice_status=invoice_status,
        livemode=bool(data.get("livemode")),
        account=row.account,
    )


def purchase(row: Row, user: str | None, refunded: int, dispute: str | None) -> Purchase:
    """The query's view of a purchase row."""
    data = row.data
    return Purchase(
        id=row.id,
        customer=row.columns.get("customer"),
        user=user,
        status=str(row.columns.get("status") or ""),
        lines=tuple(
            PurchaseLine(
                price=line.get("price"),
                product=line.get("product"),
                description=line.get("description") or "",
                quantity=int(line.get("quantity") or 1),
                amount_subtotal=int(line.get("amount_subtotal") or 0),
                amount_total=int(line.get("amount_total") or 0),
            )
            for line in data.get("lines") or []
        ),
        currency=data.get("currency"),
        amount_subtotal=int(data.get("amount_subtotal") or 0),
        amount_discount=int(data.get("amount_discount") or 0),
        amount_tax=int(data.get("amount_tax") or 0),
        amount_total=int(data.get("amount_total") or 0),
        payment_intent=row.columns.get("payment_intent"),
        created=_time(data.get("created")),
        refunded=refunded,
        dispute=dispute,
        livemode=bool(data.get("livemode")),
        account=row.account,
    )
