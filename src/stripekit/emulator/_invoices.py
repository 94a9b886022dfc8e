"""Invoices: drafted from a subscription's items and pending items, finalized, paid or not.

The money side of subscriptions. An invoice is paid through a payment intent
and a charge that can be fetched (``expand[]=payments``, ``/v1/invoice_payments``),
but only the invoice's own events are sent (docs/emulator.md). A failed payment
is retried on the clock per ``State.dunning``; what then happens to its
subscription is ``_subscriptions``' business.
"""

from __future__ import annotations

from typing import Any

from stripekit._shapes import random_id

from ._cards import CardDeclined
from ._computed import computed
from ._core import Emulator
from ._invoice_lines import pending_items
from ._parts import part
from ._payments import new_payment_intent, pay_intent
from ._state import State
from ._wire import StripeError

__all__ = [
    "NO_PAYMENT_METHOD",
    "collect",
    "finalize",
    "mark_paid",
    "mark_uncollectible",
    "new_invoice",
    "void",
]

_DAY = 86400
NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. Please consider "
    "adding a default payment method."
)


def new_invoice(
    emu: Emulator,
    sub: dict[str, Any] | None,
    *,
    reason: str,
    lines: list[dict[str, Any]],
    start: int,
    end: int,
    customer: str | None = None,
    with_pending: bool = True,
    preview: bool = False,
) -> dict[str, Any]:
    """A draft invoice (``invoice.created``) of ``sub``, or of ``customer`` alone; the pending
    items it sweeps up (the subscription's, or all the customer's) become lines.

    A ``preview`` is only shown: it is not kept, sends no event and takes no item.
    """
    customer_id = sub["customer"] if sub is not None else str(customer)
    owner = emu.state.objects.get(customer_id, {})
    invoice = emu.state.new(
        "invoice",
        account_country="US",
        account_name="stripekit emulator",
        amount_paid=0,
        attempt_count=0,
        attempted=False,
        # A subscription whose collection is paused as drafts, or that is unpaid,
        # gets invoices that do not advance on their own.
        auto_advance=sub is None
        or (
            (sub.get("pause_collection") or {}).get("behavior") != "keep_as_draft"
            and sub["status"] != "unpaid"
        ),
        billing_reason=reason,
        collection_method="charge_automatically",
        currency=sub["currency"] if sub is not None else None,
        customer=customer_id,
        customer_email=owner.get("email"),
        customer_name=owner.get("name"),
        lines={"object": "list", "data": [], "has_more": False, "url": ""},
        parent=None
        if sub is None
        else part(
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
        period_start=start,
        period_end=end,
        starting_balance=owner.get("balance", 0),
        status="draft",
        status_transitions=part("invoice", "status_transitions"),
        subscription=None if sub is None else sub["id"],
        test_clock=owner.get("test_clock"),
    )
    invoice.pop("payments", None)  # Stripe includes it only when asked (expand[]=payments)
    if preview:
        del emu.state.objects[invoice["id"]]
        invoice["id"] = random_id("upcoming_in_")
    invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
    if with_pending:
        sub_id = None if sub is None else sub["id"]
        for ii in pending_items(emu, customer_id, sub_id):
            if not preview:
                ii["invoice"] = invoice["id"]
            lines = [*lines, dict(ii["_line"])]
    if invoice["currency"] is None:
        invoice["currency"] = lines[0]["currency"] if lines else "usd"
    for line in lines:
        line["invoice"] = invoice["id"]
    invoice["lines"]["data"] = lines
    _total(invoice)
    if not preview:
        emu.emit("invoice.created", invoice)
    return invoice


def _total(invoice: dict[str, Any]) -> None:
    total = sum(line["amount"] for line in invoice["lines"]["data"])
    due = max(0, total + invoice["starting_balance"])
    invoice.update(
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        amount_due=due,
        amount_remaining=due - invoice["amount_paid"],
    )


def finalize(emu: Emulator, invoice: dict[str, Any]) -> None:
    """Draft → open (``invoice.finalized``): numbered, the customer's balance applied.

    A credit (negative balance) lowers what is due; what an invoice owes below
    zero becomes the customer's credit. A balance that changes sends
    ``customer.updated`` after ``invoice.finalized``.
    """
    if invoice["status"] != "draft":
        raise StripeError(
            400, f"This invoice is already {invoice['status']}; only a draft can be finalized."
        )
    customer = emu.state.objects.get(invoice["customer"], {})
    count = sum(
        1 for i in emu.state.all("invoice") if i["customer"] == invoice["customer"] and i["number"]
    )
    invoice["starting_balance"] = customer.get("balance", 0)
    _total(invoice)
    invoice["ending_balance"] = min(0, invoice["total"] + invoice["starting_balance"])
    invoice.update(
        number=f"{customer.get('invoice_prefix', 'EMU')}-{count + 1:04d}",
        status="open",
        effective_at=emu.state.clock.now(),
        status_transitions={
            **invoice["status_transitions"],
            "finalized_at": emu.state.clock.now(),
        },
    )
    emu.emit("invoice.finalized", invoice)
    if customer and customer["balance"] != invoice["ending_balance"]:
        before = emu.state.public(customer)
        customer["balance"] = invoice["ending_balance"]
        emu.emit_updated("customer.updated", customer, before)


def collect(
    emu: Emulator, invoice: dict[str, Any], *, payment_method: dict[str, Any] | None = None
) -> CardDeclined | StripeError | None:
    """Try to pay an open invoice off-session: None when paid, else why not.

    Paid: ``invoice.paid``, ``invoice.payment_succeeded``. Not paid:
    ``invoice.payment_failed``, and the next attempt scheduled per the
    dunning settings (None once they are used up).
    """
    if invoice["amount_remaining"] == 0:
        mark_paid(emu, invoice)
        return None
    pm = payment_method or _default_payment_method(emu, invoice)
    invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
    if pm is None:
        failure: StripeError = StripeError(400, NO_PAYMENT_METHOD, code="resource_missing")
    else:
        intent = new_payment_intent(
            emu,
            amount=invoice["amount_remaining"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            metadata={},
            description=_DESCRIPTIONS.get(invoice["billing_reason"], "Invoice payment"),
            quiet=True,
        )
        try:
            pay_intent(emu, intent, pm, off_session=True)
        except CardDeclined as exc:
            failure = exc
        else:
            mark_paid(emu, invoice, intent=intent)
            return None
    _schedule_retry(emu, invoice)
    emu.emit("invoice.payment_failed", invoice)
    return failure


_DESCRIPTIONS = {
    "subscription_create": "Subscription creation",
    "subscription_cycle": "Subscription update",
    "subscription_update": "Subscription update",
}


def _default_payment_method(emu: Emulator, invoice: dict[str, Any]) -> dict[str, Any] | None:
    sub = emu.state.objects.get(invoice["subscription"] or "", {})
    customer = emu.state.objects.get(invoice["customer"], {})
    chosen = sub.get("default_payment_method") or (customer.get("invoice_settings") or {}).get(
        "default_payment_method"
    )
    return emu.state.objects.get(chosen) if chosen else None


def _schedule_retry(emu: Emulator, invoice: dict[str, Any]) -> None:
    """The next automatic attempt, ``retry_days[n]`` days after the n-th failed one."""
    delays = emu.state.dunning.retry_days
    failed = invoice["attempt_count"]
    invoice["next_payment_attempt"] = (
        emu.state.clock.now() + delays[failed - 1] * _DAY if failed <= len(delays) else None
    )


def mark_paid(
    emu: Emulator,
    invoice: dict[str, Any],
    *,
    intent: dict[str, Any] | None = None,
    out_of_band: bool = False,
) -> None:
    """Open → paid (``invoice.paid``, ``invoice.payment_succeeded``)."""
    now = emu.state.clock.now()
    amount = invoice["amount_remaining"]
    if intent is not None:
        emu.state.new(
            "invoice_payment",
            amount_paid=amount,
            amount_requested=amount,
            currency=invoice["currency"],
            invoice=invoice["id"],
            is_default=True,
            payment=part(
                "invoice_payment", "payment", type="payment_intent", payment_intent=intent["id"]
            ),
            status="paid",
            status_transitions=part("invoice_payment", "status_transitions", paid_at=now),
        )
    invoice.update(
        status="paid",
        amount_paid=invoice["amount_paid"] + amount,
        amount_remaining=0,
        amount_paid_off_stripe=amount if out_of_band else 0,
        attempted=invoice["attempted"] or amount > 0,
        next_payment_attempt=None,
        status_transitions={**invoice["status_transitions"], "paid_at": now},
    )
    emu.emit("invoice.paid", invoice)
    if not out_of_band:
        # Stripe sends payment_succeeded only for a payment it took itself.
        emu.emit("invoice.payment_succeeded", invoice)


def void(emu: Emulator, invoice: dict[str, Any]) -> None:
    """→ void (``invoice.voided``): nothing is owed any more."""
    now = emu.state.clock.now()
    invoice.update(
        status="void",
        amount_remaining=0,
        next_payment_attempt=None,
        auto_advance=False,
        status_transitions={**invoice["status_transitions"], "voided_at": now},
    )
    emu.emit("invoice.voided", invoice)


def mark_uncollectible(emu: Emulator, invoice: dict[str, Any]) -> None:
    """Open → uncollectible (``invoice.marked_uncollectible``)."""
    now = emu.state.clock.now()
    invoice.update(
        status="uncollectible",
        next_payment_attempt=None,
        auto_advance=False,
        status_transitions={**invoice["status_transitions"], "marked_uncollectible_at": now},
    )
    emu.emit("invoice.marked_uncollectible", invoice)


@computed("invoice", "payments")
def _payments(state: State, invoice: dict[str, Any]) -> dict[str, Any]:
    data = [
        state.public(p)
        for p in reversed(state.all("invoice_payment"))
        if p["invoice"] == invoice["id"]
    ]
    url = f"/v1/invoice_payments?invoice={invoice['id']}"
    return {"object": "list", "data": data, "has_more": False, "url": url}
