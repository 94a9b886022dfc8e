"""Changing a subscription through the API: plan changes with prorations, scheduled
cancellation, paused collection, trials, the default card; canceling; resuming.

One update sends one ``customer.subscription.updated`` (with Stripe's
``previous_attributes``), after the invoice items or the invoice the change
made. Ending a trial now is a renewal, with its own events, after that.
"""

from __future__ import annotations

from typing import Any

from stripe.params import (
    SubscriptionCancelParams,
    SubscriptionResumeParams,
    SubscriptionUpdateParams,
)

from ._cards import CardDeclined
from ._core import Emulator, as_bool, as_int, metadata_update
from ._invoice_lines import pending_item, pending_items
from ._invoices import NO_PAYMENT_METHOD, collect, finalize, new_invoice
from ._parts import part
from ._payment_methods import card_of, customer_default
from ._periods import add_interval, item_lines, items_of, period, period_end, set_period
from ._prorations import Plan, plan_items, proration_date, prorations
from ._routes import route
from ._subscriptions import after_failure, bill, end_subscription, is_live, renew
from ._wire import StripeError, not_emulated

__all__: list[str] = []

_ITEMS = ("items[id]", "items[price]", "items[quantity]", "items[deleted]", "items[metadata]")
_CANCELLATION = ("cancellation_details[comment]", "cancellation_details[feedback]")


@route(
    "POST",
    "/v1/subscriptions/{id}",
    SubscriptionUpdateParams,
    honours=(
        *_ITEMS,
        "proration_behavior",
        "proration_date",
        "payment_behavior=allow_incomplete|error_if_incomplete",
        "cancel_at",
        "cancel_at_period_end",
        *_CANCELLATION,
        "default_payment_method",
        "description",
        "metadata",
        "pause_collection",
        "trial_end",
    ),
)
def update_subscription(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    sub = emu.state.get("subscription", id)
    if not is_live(sub) and set(params) - {"metadata", "cancellation_details", "expand"}:
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="id",
        )
    before = emu.state.public(sub)
    # Everything is checked before anything changes: a refused update changes nothing.
    behavior = params.get("proration_behavior") or "create_prorations"
    at = proration_date(emu, sub, params.get("proration_date"), param="proration_date")
    plan = plan_items(emu, sub, params["items"]) if params.get("items") else None
    default = (
        customer_default(emu, sub["customer"], params["default_payment_method"],
                         param="default_payment_method")
        if params.get("default_payment_method")
        else None
    )  # fmt: skip
    cancel_at = _cancel_at(emu, sub, params, behavior)
    trial_end = _trial_end(emu, params)
    pause = _pause(emu, params)

    failed_invoice = None
    if plan is not None:
        failed_invoice = _change_items(emu, sub, plan, behavior, at, params)
    if "default_payment_method" in params:
        sub["default_payment_method"] = default
    if "metadata" in params:
        sub["metadata"] = metadata_update(sub["metadata"], params["metadata"])
    if "description" in params:
        sub["description"] = params["description"] or None
    if "cancellation_details" in params:
        _note_cancellation(sub, params["cancellation_details"])
    if cancel_at is not ...:
        sub.update(
            cancel_at=cancel_at,
            cancel_at_period_end=cancel_at is not None and cancel_at == period_end(sub),
            canceled_at=None if cancel_at is None else emu.state.clock.now(),
        )
    if pause is not ...:
        sub["pause_collection"] = pause
    if isinstance(trial_end, int):
        _start_trial(emu, sub, trial_end, behavior)
    emu.emit_updated("customer.subscription.updated", sub, before)
    if failed_invoice is not None:
        after_failure(emu, sub, failed_invoice)
    if trial_end == "now" and sub["status"] == "trialing":
        # Ending a trial now is its renewal: the trial ends, the first period is billed.
        set_period(sub, period(sub)[0], emu.state.clock.now())
        sub["trial_end"] = emu.state.clock.now()
        renew(emu, sub)
    return sub


def _change_items(
    emu: Emulator,
    sub: dict[str, Any],
    plan: Plan,
    behavior: str,
    at: int,
    params: dict[str, Any],
) -> dict[str, Any] | None:
    """New items, prorated per ``proration_behavior``; the invoice if its payment failed.

    ``create_prorations`` leaves invoice items for the next invoice;
    ``always_invoice`` bills them at once; ``none`` changes the price from the
    next period on. A new billing interval restarts the period now and bills
    it at once (crediting the unused time unless ``none``), as on Stripe.
    """
    lines = [] if behavior == "none" else prorations(emu, sub, plan.changes, at)
    current = items_of(sub)[0]["price"]["recurring"]
    if plan.interval() != (current["interval"], current["interval_count"]) and (
        sub["status"] != "trialing"
    ):
        now = emu.state.clock.now()
        end = add_interval(now, *plan.interval())
        credits = [line for line in lines if line["amount"] < 0]
        lines = credits + item_lines(emu, sub, items=plan.items, start=now, end=end)
        _check_payment(emu, sub, lines, params)
        sub["items"]["data"] = plan.items
        set_period(sub, now, end)
        sub["billing_cycle_anchor"] = now
        return _invoice_now(emu, sub, lines, start=now, end=end)
    if behavior == "always_invoice" and lines:
        _check_payment(emu, sub, lines, params)
    sub["items"]["data"] = plan.items
    if not lines:
        return None
    if behavior == "always_invoice":
        return _invoice_now(emu, sub, lines, start=at, end=period_end(sub))
    for line in lines:
        pending_item(emu, sub, line)
    return None


def _check_payment(
    emu: Emulator, sub: dict[str, Any], lines: list[dict[str, Any]], params: dict[str, Any]
) -> None:
    """``payment_behavior=error_if_incomplete``: refuse (402) a change its card cannot pay."""
    if params.get("payment_behavior") != "error_if_incomplete":
        return
    customer = emu.state.objects[sub["customer"]]
    due = sum(line["amount"] for line in lines) + customer["balance"]
    if due <= 0:
        return
    chosen = params.get("default_payment_method") or sub["default_payment_method"]
    chosen = chosen or (customer.get("invoice_settings") or {}).get("default_payment_method")
    if not chosen:
        raise StripeError(400, NO_PAYMENT_METHOD, code="resource_missing")
    card = card_of(emu.state.objects[chosen])
    if not card.succeeds:
        raise CardDeclined(str(card.message), card.decline_code)


def _invoice_now(
    emu: Emulator, sub: dict[str, Any], lines: list[dict[str, Any]], *, start: int, end: int
) -> dict[str, Any] | None:
    """Bill ``lines`` (and pending items) now; the invoice if its payment failed."""
    invoice = new_invoice(emu, sub, reason="subscription_update", lines=lines, start=start, end=end)
    sub["latest_invoice"] = invoice["id"]
    return invoice if bill(emu, sub, invoice) else None


def _note_cancellation(sub: dict[str, Any], given: dict[str, Any]) -> None:
    """The customer's words on why they leave (``cancellation_details``)."""
    current = sub["cancellation_details"] or part("subscription", "cancellation_details")
    sub["cancellation_details"] = {**current, **{k: v or None for k, v in given.items()}}


def _cancel_at(emu: Emulator, sub: dict[str, Any], params: dict[str, Any], behavior: str) -> Any:
    """The new ``cancel_at`` (None: no cancellation), or ``...`` when unchanged."""
    if "cancel_at" in params and "cancel_at_period_end" in params:
        raise StripeError(
            400,
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
            param="cancel_at",
        )
    if "cancel_at_period_end" in params:
        return period_end(sub) if as_bool(params, "cancel_at_period_end") else None
    if "cancel_at" not in params:
        return ...
    given = params["cancel_at"]
    if given == "":
        return None
    if given in ("min_period_end", "max_period_end"):
        return period_end(sub)  # every item shares one period here
    if given == "max_billed_until":
        raise not_emulated("cancel_at", value=given)
    moment = as_int(params, "cancel_at")
    if moment <= emu.state.clock.now():
        raise StripeError(400, "cancel_at must be in the future.", param="cancel_at")
    if moment < period_end(sub) and behavior != "none" and sub["status"] != "trialing":
        # Stripe credits the unused part of the period; where that credit goes once the
        # subscription has ended is not something the emulator knows how to do.
        raise not_emulated(
            "cancel_at",
            "A cancellation before the period ends, with prorations, is not emulated; "
            "pass proration_behavior=none (no credit) or cancel at the period's end",
        )
    return moment


def _trial_end(emu: Emulator, params: dict[str, Any]) -> int | str | None:
    given = params.get("trial_end")
    if given is None or given == "now":
        return given
    moment = as_int(params, "trial_end")
    if moment <= emu.state.clock.now():
        raise StripeError(
            400,
            "Invalid timestamp: must be an integer Unix timestamp in the future.",
            param="trial_end",
        )
    return moment


def _start_trial(emu: Emulator, sub: dict[str, Any], trial_end: int, behavior: str) -> None:
    """A (longer) free trial: an active subscription's unused paid time is credited."""
    now = emu.state.clock.now()
    if sub["status"] != "trialing":
        if behavior != "none":
            credits = prorations(emu, sub, [(item, None) for item in items_of(sub)], now)
            for line in credits:
                pending_item(emu, sub, line)
        sub.update(status="trialing", trial_start=now)
        set_period(sub, now, trial_end)
    else:
        set_period(sub, period(sub)[0], trial_end)
    sub.update(trial_end=trial_end, billing_cycle_anchor=trial_end, _trial_warned=False)


def _pause(emu: Emulator, params: dict[str, Any]) -> Any:
    """The new ``pause_collection`` (None: collect again), or ``...`` when unchanged."""
    if "pause_collection" not in params:
        return ...
    given = params["pause_collection"]
    if given == "":
        return None
    behavior = given.get("behavior")
    if behavior not in ("keep_as_draft", "mark_uncollectible", "void"):
        raise StripeError(
            400,
            "Missing required param: pause_collection[behavior].",
            code="parameter_missing",
            param="pause_collection[behavior]",
        )
    resumes_at = None
    if given.get("resumes_at"):
        resumes_at = as_int(given, "resumes_at", path="pause_collection[resumes_at]")
        if resumes_at <= emu.state.clock.now():
            raise StripeError(
                400, "resumes_at must be in the future.", param="pause_collection[resumes_at]"
            )
    return {"behavior": behavior, "resumes_at": resumes_at}


@route(
    "DELETE",
    "/v1/subscriptions/{id}",
    SubscriptionCancelParams,
    honours=("invoice_now", "prorate", *_CANCELLATION),
)
def cancel_subscription_now(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Cancel at once (``customer.subscription.deleted``).

    ``prorate=true`` credits the unused time (invoice items); ``invoice_now=true``
    bills what is pending (that credit included) in a final invoice first.
    """
    sub = emu.state.get("subscription", id)
    if not is_live(sub):
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="id",
        )
    now = emu.state.clock.now()
    if as_bool(params, "prorate"):
        for line in prorations(emu, sub, [(item, None) for item in items_of(sub)], now):
            pending_item(emu, sub, line)
    if as_bool(params, "invoice_now") and pending_items(emu, sub["customer"], sub["id"]):
        invoice = new_invoice(
            emu, sub, reason="subscription_cycle", lines=[], start=period(sub)[0], end=now
        )
        sub["latest_invoice"] = invoice["id"]
        finalize(emu, invoice)
        if invoice["status"] == "open":
            collect(emu, invoice)
    if "cancellation_details" in params:
        _note_cancellation(sub, params["cancellation_details"])
    end_subscription(emu, sub, at=now)
    return sub


@route(
    "POST",
    "/v1/subscriptions/{id}/resume",
    SubscriptionResumeParams,
    honours=("billing_cycle_anchor[type]=now",),
)
def resume_paused(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """A paused subscription (its trial ended without a card) starts a new period now.

    Events: the new period's invoice, ``customer.subscription.updated``,
    ``customer.subscription.resumed``.
    """
    sub = emu.state.get("subscription", id)
    if sub["status"] != "paused":
        raise StripeError(
            400,
            f"Subscription {id} is {sub['status']}: only a paused subscription can be resumed.",
            param="id",
        )
    before = emu.state.public(sub)
    now = emu.state.clock.now()
    recurring = items_of(sub)[0]["price"]["recurring"]
    end = add_interval(now, recurring["interval"], recurring["interval_count"])
    sub.update(status="active", billing_cycle_anchor=now)
    set_period(sub, now, end)
    invoice = new_invoice(
        emu, sub, reason="subscription_update", lines=item_lines(emu, sub), start=now, end=end
    )
    sub["latest_invoice"] = invoice["id"]
    failed = bill(emu, sub, invoice)
    emu.emit_updated("customer.subscription.updated", sub, before)
    emu.emit("customer.subscription.resumed", sub)
    if failed:
        after_failure(emu, sub, invoice)
    return sub
