"""Subscriptions over time: start, renew on the clock, end a trial, fall behind, end.

Changes asked through the API (plan changes, pauses, cancellation) are in
``_subscription_updates``; this module is what happens to a subscription as
time passes and as its invoices are paid or not.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from stripe.params import SubscriptionListParams

from ._core import Emulator, matching
from ._invoice_lines import share
from ._invoices import collect, finalize, mark_uncollectible, new_invoice, void
from ._parts import part
from ._periods import add_interval, item_lines, items_of, new_item, period_end, set_period
from ._routes import route
from ._schedule import Pending, timer
from ._wire import StripeError

__all__ = [
    "after_failure",
    "after_payment",
    "bill",
    "cancel_subscription",
    "end_subscription",
    "is_live",
    "new_subscription",
    "renew",
    "resume_subscription",
    "start_subscription",
]

_ENDED = ("canceled", "incomplete_expired")
_RENEWING = ("active", "trialing", "past_due", "unpaid")
_TRIAL_WARNING = 3 * 86400
"""Stripe sends ``customer.subscription.trial_will_end`` three days before a trial ends."""


def is_live(sub: dict[str, Any]) -> bool:
    """Whether the subscription has not ended (it can still be changed or canceled)."""
    return sub["status"] not in _ENDED


def start_subscription(
    emu: Emulator,
    *,
    customer: str,
    items: list[tuple[dict[str, Any], int]],
    trial_end: int | None,
    metadata: dict[str, str],
    payment_method: str | None,
    trial_settings: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new subscription and its first invoice, paid; events in Stripe's order.

    The caller has made sure the payment goes through (the hosted page declines first).
    """
    sub, end = new_subscription(
        emu,
        customer=customer,
        items=items,
        trial_end=trial_end,
        metadata=metadata,
        payment_method=payment_method,
        trial_settings=trial_settings,
    )
    invoice = new_invoice(
        emu, sub, reason="subscription_create", lines=item_lines(emu, sub, free=bool(trial_end)),
        start=sub["start_date"], end=end,
    )  # fmt: skip
    sub["latest_invoice"] = invoice["id"]
    finalize(emu, invoice)
    collect(emu, invoice)
    _warn_of_trial_end(emu, sub)  # a trial of three days or less: at once
    return sub, invoice


def new_subscription(
    emu: Emulator,
    *,
    customer: str,
    items: list[tuple[dict[str, Any], int]],
    trial_end: int | None,
    metadata: dict[str, str],
    payment_method: str | None,
    trial_settings: dict[str, Any] | None = None,
    status: str | None = None,
    save_default_payment_method: str = "off",
) -> tuple[dict[str, Any], int]:
    """A new subscription (``customer.subscription.created``) and its first period's end.

    ``status`` defaults to ``trialing`` or ``active``; nothing is invoiced yet.
    """
    now = emu.state.clock.now()
    first_price = items[0][0]
    recurring = first_price["recurring"]
    end = trial_end or add_interval(now, recurring["interval"], recurring["interval_count"])
    owner = emu.state.objects[customer]
    sub = emu.state.new(
        "subscription",
        customer=customer,
        currency=first_price["currency"],
        status=status or ("trialing" if trial_end else "active"),
        start_date=now,
        billing_cycle_anchor=end if trial_end else now,
        collection_method="charge_automatically",
        cancel_at_period_end=False,
        default_payment_method=payment_method,
        metadata=metadata,
        trial_start=now if trial_end else None,
        trial_end=trial_end,
        trial_settings=part(
            "subscription",
            "trial_settings",
            end_behavior=part(
                "subscription",
                "trial_settings",
                "end_behavior",
                **{
                    "missing_payment_method": "create_invoice",
                    **((trial_settings or {}).get("end_behavior") or {}),
                },
            ),
        ),
        items={"object": "list", "data": [], "has_more": False, "url": ""},
        automatic_tax=part("subscription", "automatic_tax"),
        billing_mode=part("subscription", "billing_mode", type="classic"),
        invoice_settings=part(
            "subscription",
            "invoice_settings",
            issuer=part("subscription", "invoice_settings", "issuer", type="self"),
        ),
        payment_settings=part(
            "subscription",
            "payment_settings",
            save_default_payment_method=save_default_payment_method,
        ),
        test_clock=owner.get("test_clock"),
    )
    sub["items"]["url"] = f"/v1/subscription_items?subscription={sub['id']}"
    sub["items"]["data"] = [new_item(emu, sub, p, q, now, end) for p, q in items]
    emu.emit("customer.subscription.created", sub)
    return sub, end


def _warn_of_trial_end(emu: Emulator, sub: dict[str, Any]) -> None:
    """``customer.subscription.trial_will_end``, once, when the trial has 3 days or less left."""
    if sub["status"] != "trialing" or sub.get("_trial_warned"):
        return
    if sub["trial_end"] - emu.state.clock.now() <= _TRIAL_WARNING:
        sub["_trial_warned"] = True
        emu.emit("customer.subscription.trial_will_end", sub)


@timer
def _due(emu: Emulator) -> Pending:
    """Trial warnings, scheduled cancellations, collection resuming, period ends."""
    for sub in reversed(emu.state.all("subscription")):
        if not is_live(sub):
            continue
        end = period_end(sub)
        if sub["status"] == "trialing" and not sub.get("_trial_warned"):
            yield sub["trial_end"] - _TRIAL_WARNING, partial(_warn_of_trial_end, emu, sub)
        resumes = (sub.get("pause_collection") or {}).get("resumes_at")
        if resumes:
            yield resumes, partial(_resume_collection, emu, sub)
        if sub["cancel_at"] is not None and sub["cancel_at"] <= end:
            yield sub["cancel_at"], partial(end_subscription, emu, sub, at=sub["cancel_at"])
        elif sub["status"] in _RENEWING:
            yield end, partial(renew, emu, sub)


def _resume_collection(emu: Emulator, sub: dict[str, Any]) -> None:
    before = emu.state.public(sub)
    sub["pause_collection"] = None
    emu.emit_updated("customer.subscription.updated", sub, before)


def renew(emu: Emulator, sub: dict[str, Any]) -> None:
    """The period ends: a trial ends, or the next period starts with its invoice.

    Paid: ``invoice.created``, ``invoice.finalized``, ``invoice.paid``,
    ``invoice.payment_succeeded``, ``customer.subscription.updated``. Declined:
    ``invoice.payment_failed`` instead of the two paid events, and the
    subscription becomes ``past_due``. A trial that ends with no payment method
    pauses or cancels the subscription instead when its ``trial_settings`` say so.
    """
    if sub["status"] == "trialing":
        _warn_of_trial_end(emu, sub)  # a trial ended early still warns first, as on Stripe
    before = emu.state.public(sub)
    end = period_end(sub)
    if sub["status"] == "trialing":
        missing = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
        if missing != "create_invoice" and not _has_payment_method(emu, sub):
            _trial_ends_unpaid(emu, sub, how=missing, before=before)
            return
        sub["status"] = "active"
    recurring = items_of(sub)[0]["price"]["recurring"]
    next_end = add_interval(end, recurring["interval"], recurring["interval_count"])
    lines = item_lines(emu, sub, start=end, end=next_end)
    if sub["cancel_at"] is not None and end < sub["cancel_at"] < next_end:
        # The last period is cut short by the cancellation: Stripe bills it prorated.
        for line in lines:
            line["amount"] = line["subtotal"] = share(
                line["amount"], sub["cancel_at"] - end, next_end - end
            )
            line["period"]["end"] = sub["cancel_at"]
        next_end = sub["cancel_at"]
    set_period(sub, end, next_end)
    invoice = new_invoice(
        emu, sub, reason="subscription_cycle", lines=lines, start=end, end=next_end
    )
    sub["latest_invoice"] = invoice["id"]
    failure = bill(emu, sub, invoice)
    emu.emit_updated("customer.subscription.updated", sub, before)
    if failure:
        after_failure(emu, sub, invoice)


def bill(emu: Emulator, sub: dict[str, Any], invoice: dict[str, Any]) -> bool:
    """Finalize and collect a new invoice as the subscription's state says (its collection
    may be paused); True when a payment failed, the subscription then ``past_due``."""
    paused = (sub.get("pause_collection") or {}).get("behavior")
    if paused == "keep_as_draft":
        return False  # new_invoice left it a draft that does not advance
    if paused == "void":
        void(emu, invoice)
        return False
    finalize(emu, invoice)
    if paused == "mark_uncollectible":
        mark_uncollectible(emu, invoice)
        return False
    if sub["status"] == "unpaid":
        return False  # Stripe makes the invoice but does not try to pay it
    if invoice["status"] == "paid":
        return False
    failed = collect(emu, invoice) is not None
    if failed:
        sub["status"] = "past_due"
    elif sub["status"] == "past_due":
        sub["status"] = "active"
    return failed


def _has_payment_method(emu: Emulator, sub: dict[str, Any]) -> bool:
    customer = emu.state.objects.get(sub["customer"], {})
    settings = customer.get("invoice_settings") or {}
    return bool(sub["default_payment_method"] or settings.get("default_payment_method"))


def _trial_ends_unpaid(
    emu: Emulator, sub: dict[str, Any], *, how: str, before: dict[str, Any]
) -> None:
    if how == "cancel":
        end_subscription(emu, sub, at=period_end(sub), reason="cancellation_requested")
        return
    sub.update(status="paused", pause_collection=None)
    emu.emit_updated("customer.subscription.updated", sub, before)
    emu.emit("customer.subscription.paused", sub)


def after_payment(emu: Emulator, invoice: dict[str, Any], *, paid: bool) -> None:
    """What an invoice's payment (or its last failure) does to its subscription.

    Paid: a ``past_due`` or ``unpaid`` subscription whose latest invoice it is is
    ``active`` again. Failed with no retry left: the dunning settings decide.
    """
    sub = emu.state.objects.get(invoice.get("subscription") or "")
    if sub is None or not is_live(sub):
        return
    if paid:
        if sub["status"] in ("past_due", "unpaid") and sub["latest_invoice"] == invoice["id"]:
            before = emu.state.public(sub)
            sub["status"] = "active"
            emu.emit_updated("customer.subscription.updated", sub, before)
        return
    if sub["status"] == "active":
        before = emu.state.public(sub)
        sub["status"] = "past_due"
        emu.emit_updated("customer.subscription.updated", sub, before)
    after_failure(emu, sub, invoice)


def after_failure(emu: Emulator, sub: dict[str, Any], invoice: dict[str, Any]) -> None:
    """Once no retry is left: cancel, mark unpaid or leave past due, as the settings say."""
    if invoice["next_payment_attempt"] is not None or sub["status"] != "past_due":
        return
    then = emu.state.dunning.then
    if then == "cancel":
        end_subscription(emu, sub, at=emu.state.clock.now(), reason="payment_failed")
    elif then == "unpaid":
        before = emu.state.public(sub)
        sub["status"] = "unpaid"
        emu.emit_updated("customer.subscription.updated", sub, before)


def end_subscription(
    emu: Emulator, sub: dict[str, Any], *, at: int, reason: str = "cancellation_requested"
) -> None:
    """The subscription is over (``customer.subscription.deleted``)."""
    sub.update(
        status="canceled",
        ended_at=at,
        canceled_at=sub.get("canceled_at") or at,
        cancellation_details={
            **(sub.get("cancellation_details") or part("subscription", "cancellation_details")),
            "reason": reason,
        },
        pause_collection=None,
    )
    emu.emit("customer.subscription.deleted", sub)


def cancel_subscription(
    emu: Emulator, sub: dict[str, Any], *, at_period_end: bool
) -> dict[str, Any]:
    """Cancel now (``customer.subscription.deleted``) or at the period's end (``.updated``)."""
    if not is_live(sub):
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="id",
        )
    if at_period_end:
        if not sub["cancel_at_period_end"]:
            before = emu.state.public(sub)
            sub.update(
                cancel_at_period_end=True,
                cancel_at=period_end(sub),
                canceled_at=emu.state.clock.now(),
            )
            emu.emit_updated("customer.subscription.updated", sub, before)
        return sub
    end_subscription(emu, sub, at=emu.state.clock.now())
    return sub


def resume_subscription(emu: Emulator, sub: dict[str, Any]) -> dict[str, Any]:
    """Undo a cancellation scheduled for later (``customer.subscription.updated``)."""
    if sub["cancel_at"] is not None and is_live(sub):
        before = emu.state.public(sub)
        sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
        emu.emit_updated("customer.subscription.updated", sub, before)
    return sub


@route("GET", "/v1/subscriptions/{id}")
def retrieve_subscription(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("subscription", id)


@route(
    "GET",
    "/v1/subscriptions",
    SubscriptionListParams,
    honours=("status", "customer", "price", "test_clock"),
)
def list_subscriptions(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("subscription")
    status = params.get("status")
    if status == "ended":
        items = [s for s in items if not is_live(s)]
    elif status != "all":
        items = (
            [s for s in items if s["status"] == status]
            if status
            else [s for s in items if s["status"] != "canceled"]
        )
    items = matching(items, params, "customer", "test_clock")
    if params.get("price"):
        items = [s for s in items if any(i["price"]["id"] == params["price"] for i in items_of(s))]
    return emu.list_of(items, params, "/v1/subscriptions", "subscription")
