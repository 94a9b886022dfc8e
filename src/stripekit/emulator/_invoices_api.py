"""The invoices API: retrieve, list, create, finalize, pay, void, lines, previews;
invoice items and invoice payments."""

from __future__ import annotations

from typing import Any

from stripe.params import (
    InvoiceCreateParams,
    InvoiceCreatePreviewParams,
    InvoiceFinalizeInvoiceParams,
    InvoiceItemListParams,
    InvoiceLineItemListParams,
    InvoiceListParams,
    InvoicePaymentListParams,
    InvoicePayParams,
    InvoiceVoidInvoiceParams,
)

from ._core import Emulator, as_bool, matching, metadata_update, required
from ._invoice_lines import pending_items
from ._invoices import collect, finalize, mark_paid, new_invoice, void
from ._payment_methods import payment_method
from ._periods import add_interval, item_lines, period
from ._prorations import plan_items, proration_date, prorations
from ._routes import route
from ._subscriptions import after_payment, is_live
from ._wire import StripeError

__all__: list[str] = []

_AN_HOUR = 3600


@route("GET", "/v1/invoices/{id}")
def retrieve_invoice(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("invoice", id)


@route("GET", "/v1/invoices", InvoiceListParams, honours=("customer", "subscription", "status"))
def list_invoices(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("invoice")
    items = matching(items, params, "customer", "subscription", "status")
    return emu.list_of(items, params, "/v1/invoices", "invoice")


@route(
    "POST",
    "/v1/invoices",
    InvoiceCreateParams,
    honours=(
        "customer",
        "subscription",
        "auto_advance",
        "collection_method=charge_automatically",
        "description",
        "metadata",
        "pending_invoice_items_behavior",
    ),
)
def create_invoice(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    """A draft invoice of what a customer (or one subscription) has pending (``invoice.created``).

    With ``auto_advance=true`` Stripe finalizes it about an hour later and tries
    to pay it; so does the emulator's clock. Otherwise it waits for ``finalize``.
    """
    required(params, "customer")
    customer = emu.state.get("customer", params["customer"], param="customer")
    sub = None
    if params.get("subscription"):
        sub = emu.state.get("subscription", params["subscription"], param="subscription")
        if sub["customer"] != customer["id"]:
            raise StripeError(
                400, "The subscription belongs to another customer.", param="subscription"
            )
    include = params.get("pending_invoice_items_behavior", "include") == "include"
    now = emu.state.clock.now()
    invoice = new_invoice(
        emu,
        sub,
        customer=customer["id"],
        reason="manual",
        lines=[],
        start=now,
        end=now,
        with_pending=include,
    )
    auto_advance = as_bool(params, "auto_advance", False)
    invoice.update(
        auto_advance=auto_advance,
        automatically_finalizes_at=now + _AN_HOUR if auto_advance else None,
        description=params.get("description") or None,
        metadata=metadata_update({}, params.get("metadata", {})),
    )
    return invoice


@route(
    "POST",
    "/v1/invoices/{id}/finalize",
    InvoiceFinalizeInvoiceParams,
    honours=("auto_advance",),
)
def finalize_invoice(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Draft → open (``invoice.finalized``); a zero invoice is paid at once, as on Stripe.

    With ``auto_advance`` (the default for subscriptions' invoices), payment is tried now.
    """
    invoice = emu.state.get("invoice", id)
    if "auto_advance" in params:
        invoice["auto_advance"] = as_bool(params, "auto_advance")
    finalize(emu, invoice)
    if invoice["amount_remaining"] == 0 or invoice["auto_advance"]:
        after_payment(emu, invoice, paid=collect(emu, invoice) is None)
    return invoice


@route(
    "POST",
    "/v1/invoices/{id}/pay",
    InvoicePayParams,
    honours=("payment_method", "paid_out_of_band"),
)
def pay_invoice(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Pay an open invoice now: with its default card, ``payment_method``, or out of band.

    Paid: ``invoice.paid``, ``invoice.payment_succeeded`` (not out of band), and a
    ``past_due``/``unpaid`` subscription back to ``active``. Declined: 402,
    ``invoice.payment_failed``.
    """
    invoice = emu.state.get("invoice", id)
    if invoice["status"] == "draft":
        finalize(emu, invoice)
    if invoice["status"] != "open":
        raise StripeError(
            400,
            f"Invoice is already {invoice['status']}." if invoice["status"] == "paid"
            else f"This invoice is {invoice['status']}; only an open invoice can be paid.",
            code="invoice_not_open" if invoice["status"] != "paid" else "invoice_already_paid",
        )  # fmt: skip
    if as_bool(params, "paid_out_of_band"):
        mark_paid(emu, invoice, out_of_band=True)
        after_payment(emu, invoice, paid=True)
        return invoice
    pm = None
    if params.get("payment_method"):
        pm = payment_method(emu, params["payment_method"])
    failure = collect(emu, invoice, payment_method=pm)
    after_payment(emu, invoice, paid=failure is None)
    if failure is not None:
        raise failure
    return invoice


@route("POST", "/v1/invoices/{id}/void", InvoiceVoidInvoiceParams)
def void_invoice(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Open or uncollectible → void (``invoice.voided``)."""
    invoice = emu.state.get("invoice", id)
    if invoice["status"] not in ("open", "uncollectible"):
        raise StripeError(
            400,
            f"You can only void an open or uncollectible invoice; this one is {invoice['status']}.",
            code="invoice_not_open",
        )
    void(emu, invoice)
    return invoice


@route("GET", "/v1/invoices/{id}/lines", InvoiceLineItemListParams)
def list_invoice_lines(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    invoice = emu.state.get("invoice", id)
    return emu.list_of(invoice["lines"]["data"], params, f"/v1/invoices/{id}/lines", "line item")


_ITEMS = ("id", "price", "quantity", "deleted")


@route(
    "POST",
    "/v1/invoices/create_preview",
    InvoiceCreatePreviewParams,
    honours=(
        "customer",
        "subscription",
        *(f"subscription_details[items][{name}]" for name in _ITEMS),
        "subscription_details[proration_behavior]",
        "subscription_details[proration_date]",
    ),
)
def create_preview(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    """The invoice a change would make, or the next one (nothing is kept or sent).

    With ``subscription_details[items]``: for ``proration_behavior=always_invoice``
    (or a new billing interval) the invoice the update would bill at once;
    otherwise the next renewal's, with the prorations the update would leave
    pending. Its proration lines are the update's, for the same ``proration_date``.
    """
    sub = None
    if params.get("subscription"):
        sub = emu.state.get("subscription", params["subscription"], param="subscription")
    customer = params.get("customer") or (sub["customer"] if sub else None)
    if sub is not None and customer != sub["customer"]:
        raise StripeError(
            400,
            f"The subscription {sub['id']} belongs to another customer than {customer}.",
            param="subscription",
        )
    if not customer:
        raise StripeError(
            400,
            "Missing required param: customer or subscription.",
            code="parameter_missing",
            param="customer",
        )
    emu.state.get("customer", customer, param="customer")
    if sub is None:
        if not pending_items(emu, customer):
            raise _none_upcoming(customer)
        now = emu.state.clock.now()
        return new_invoice(
            emu, None, customer=customer, reason="upcoming", lines=[], start=now, end=now,
            preview=True,
        )  # fmt: skip
    if not is_live(sub) or sub["status"] == "paused" or sub["cancel_at_period_end"]:
        raise _none_upcoming(customer)
    details = params.get("subscription_details") or {}
    if not details.get("items"):
        return _next_renewal(emu, sub, sub["items"]["data"], [])
    plan = plan_items(emu, sub, details["items"], param="subscription_details[items]")
    behavior = details.get("proration_behavior") or "create_prorations"
    at = proration_date(
        emu, sub, details.get("proration_date"), param="subscription_details[proration_date]"
    )
    lines = [] if behavior == "none" else prorations(emu, sub, plan.changes, at)
    current = sub["items"]["data"][0]["price"]["recurring"]
    if plan.interval() != (current["interval"], current["interval_count"]) and (
        sub["status"] != "trialing"
    ):
        now = emu.state.clock.now()
        end = add_interval(now, *plan.interval())
        lines = [line for line in lines if line["amount"] < 0]
        lines += item_lines(emu, sub, items=plan.items, start=now, end=end)
        return new_invoice(
            emu, sub, reason="subscription_update", lines=lines, start=now, end=end, preview=True
        )
    if behavior == "always_invoice":
        return new_invoice(
            emu, sub, reason="subscription_update", lines=lines, start=at,
            end=period(sub)[1], preview=True,
        )  # fmt: skip
    return _next_renewal(emu, sub, plan.items, lines)


def _next_renewal(
    emu: Emulator, sub: dict[str, Any], items: list[dict[str, Any]], extra: list[dict[str, Any]]
) -> dict[str, Any]:
    """The invoice the subscription's next period will start with (``extra`` pending lines too)."""
    start = period(sub)[1]
    recurring = items[0]["price"]["recurring"]
    end = add_interval(start, recurring["interval"], recurring["interval_count"])
    lines = [*extra, *item_lines(emu, sub, items=items, start=start, end=end)]
    return new_invoice(emu, sub, reason="upcoming", lines=lines, start=start, end=end, preview=True)


def _none_upcoming(customer: str) -> StripeError:
    return StripeError(
        404,
        f"No upcoming invoices for customer: {customer}",
        code="invoice_upcoming_none",
    )


@route(
    "GET",
    "/v1/invoice_payments",
    InvoicePaymentListParams,
    honours=("invoice", "payment[type]=payment_intent", "payment[payment_intent]", "status"),
)
def list_invoice_payments(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("invoice_payment")
    items = matching(items, params, "invoice", "status")
    intent = (params.get("payment") or {}).get("payment_intent")
    if intent:
        items = [p for p in items if p["payment"]["payment_intent"] == intent]
    return emu.list_of(items, params, "/v1/invoice_payments", "invoice payment")


@route("GET", "/v1/invoice_payments/{id}")
def retrieve_invoice_payment(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("invoice_payment", id, resource="invoice payment")


@route(
    "GET",
    "/v1/invoiceitems",
    InvoiceItemListParams,
    honours=("customer", "invoice", "pending"),
)
def list_invoice_items(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("invoiceitem")
    items = matching(items, params, "customer", "invoice")
    if "pending" in params:
        pending = as_bool(params, "pending")
        items = [i for i in items if (i["invoice"] is None) == pending]
    return emu.list_of(items, params, "/v1/invoiceitems", "invoiceitem")


@route("GET", "/v1/invoiceitems/{id}")
def retrieve_invoice_item(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("invoiceitem", id, resource="invoiceitem")
