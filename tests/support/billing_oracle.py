"""What the billing state must be, read from the emulator's current objects: the oracle.

``expected(flows, users)`` says, per user, what a mirror that has received
every event must answer: each subscription's status, items and dates, each
one-time purchase's status, refund and dispute, the credits balance the
catalog implies. ``actual(kit, users)`` reads the same from a kit's billing
state. The order tests compare the two after every delivery order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from billing_flows import Flows

from stripekit import Catalog, StripeKit

CREDITED = ("subscription_create", "subscription_cycle")


def _subscription_view(sub: dict[str, Any], latest_status: str | None) -> dict[str, Any]:
    items = sub["items"]["data"]
    return {
        "status": sub["status"],
        "prices": sorted((item["price"]["id"], item.get("quantity") or 1) for item in items),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "period_end": items[0].get("current_period_end") if items else None,
        "trial_end": sub.get("trial_end"),
        "canceled_at": sub.get("canceled_at"),
        "ended_at": sub.get("ended_at"),
        "latest_invoice_status": latest_status,
    }


def expected(flows: Flows, users: Iterable[str], catalog: Catalog) -> dict[str, Any]:
    """Per user: their subscriptions, purchases and credits, as the emulator has them now."""
    client = flows.client
    result: dict[str, Any] = {}
    sessions = [s.to_dict() for s in client.v1.checkout.sessions.list({"limit": 100}).data]
    for user in users:
        mine = [s for s in sessions if s.get("client_reference_id") == user]
        customers = sorted({str(s["customer"]) for s in mine if s.get("customer")})
        subs: dict[str, Any] = {}
        credits = 0
        for customer in customers:
            listed = client.v1.subscriptions.list({"customer": customer, "status": "all"})
            for sub in listed.data:
                plain = flows.current("subscription", sub.id)
                latest = plain.get("latest_invoice")
                status = flows.current("invoice", latest)["status"] if latest else None
                subs[sub.id] = _subscription_view(plain, status)
            for invoice in client.v1.invoices.list({"customer": customer, "limit": 100}).data:
                inv = flows.current("invoice", invoice.id)
                if inv["status"] != "paid" or inv.get("billing_reason") not in CREDITED:
                    continue
                if not inv.get("amount_paid"):
                    continue
                for line in inv["lines"]["data"]:
                    price = line["pricing"]["price_details"]["price"]
                    credits += _credits_of_price(client, catalog, price) * (line["quantity"] or 1)
        purchases: dict[str, Any] = {}
        for session in mine:
            if session["mode"] != "payment":
                continue
            view = _purchase_view(flows, session, catalog)
            purchases[session["id"]] = view
            if view["status"] == "paid":
                granted = view["granted"]
                total, refunded = view["total"], view["refunded"]
                taken = granted * min(refunded, total) // total if total and refunded else 0
                credits += granted - taken
        result[user] = {"subscriptions": subs, "purchases": purchases, "credits": credits}
    return result


def _purchase_view(flows: Flows, session: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    client = flows.client
    status = session["status"]
    if status == "complete":
        paid = session["payment_status"] in ("paid", "no_payment_required")
        status = "paid" if paid else "pending"
    refunded, dispute = 0, None
    intent = session.get("payment_intent")
    if intent:
        charges = [c.to_dict() for c in client.v1.charges.list({"payment_intent": intent}).data]
        refunded = sum(c["amount_refunded"] for c in charges)
        ours = {c["id"] for c in charges}
        disputes = [d.to_dict() for d in client.v1.disputes.list({"limit": 100}).data]
        disputes = [d for d in disputes if d["charge"] in ours]
        dispute = disputes[0]["status"] if disputes else None
    granted = 0
    if status == "paid":
        for item in client.v1.checkout.sessions.line_items.list(session["id"]).data:
            plain = item.to_dict()
            granted += _credits_of_price(client, catalog, plain["price"]["id"]) * (
                plain.get("quantity") or 1
            )
    return {
        "status": status,
        "refunded": refunded,
        "dispute": dispute,
        "total": session.get("amount_total") or 0,
        "granted": granted,
    }


def _credits_of_price(client: Any, catalog: Catalog, price_id: str) -> int:
    price = client.v1.prices.retrieve(price_id).to_dict()
    key = (price.get("metadata") or {}).get("stripekit_product")
    if key is None or key not in catalog:
        return 0
    return catalog.get(key).credits or 0


def actual(kit: StripeKit, users: Iterable[str], catalog: Catalog) -> dict[str, Any]:
    """Per user: what the kit's billing state answers."""
    billing = kit.billing
    result: dict[str, Any] = {}
    for user in users:
        subs = {
            s.id: {
                "status": s.status,
                "prices": sorted((item.price, item.quantity) for item in s.items),
                "cancel_at_period_end": s.cancel_at_period_end,
                "period_end": _ts(s.current_period_end),
                "trial_end": _ts(s.trial_end),
                "canceled_at": _ts(s.canceled_at),
                "ended_at": _ts(s.ended_at),
                "latest_invoice_status": s.latest_invoice_status,
            }
            for s in billing.subscriptions(user)
        }
        purchases = {
            p.id: {
                "status": p.status,
                "refunded": p.refunded,
                "dispute": p.dispute,
                "total": p.amount_total,
                "granted": sum(
                    (catalog.get(line.product).credits or 0) * line.quantity
                    for line in p.lines
                    if line.product in catalog
                )
                if p.status == "paid"
                else 0,
            }
            for p in billing.purchases(user)
        }
        result[user] = {
            "subscriptions": subs,
            "purchases": purchases,
            "credits": billing.credits.balance(user),
        }
    return result


def _ts(value: Any) -> int | None:
    return int(value.timestamp()) if value is not None else None
