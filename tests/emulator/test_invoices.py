"""The invoices API: drafts of pending items, finalize, pay, void, lines, invoice payments."""

from __future__ import annotations

import pytest
import stripe

from stripekit.emulator import RunningEmulator


def pending_credit(client: stripe.StripeClient, shop) -> stripe.Subscription:
    """A subscription with a quantity raised mid-period: two pending proration items."""
    sub = shop.subscribe(1000)
    client.v1.subscriptions.update(
        sub.id, {"items": [{"id": sub["items"].data[0].id, "quantity": 2}]}
    )
    return sub


def test_a_draft_of_pending_items_finalized_then_paid(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = pending_credit(client, shop)
    mark = shop.mark()
    draft = client.v1.invoices.create(
        {"customer": str(sub.customer), "subscription": sub.id, "metadata": {"why": "now"}}
    )
    assert (draft.status, draft.billing_reason, draft.number) == ("draft", "manual", None)
    assert len(draft.lines.data) == 2
    lines = client.v1.invoices.line_items.list(draft.id)
    assert [line.id for line in lines.data] == [line.id for line in draft.lines.data]
    assert all(line.parent.invoice_item_details is not None for line in lines.data)

    opened = client.v1.invoices.finalize_invoice(draft.id, {"auto_advance": False})
    assert (opened.status, opened.amount_due) == ("open", draft.total)
    assert opened.number is not None
    paid = client.v1.invoices.pay(draft.id)
    assert paid.status == "paid"
    assert shop.since(mark) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    with pytest.raises(stripe.InvalidRequestError, match="already paid"):
        client.v1.invoices.pay(draft.id)
    assert client.v1.invoice_items.list({"invoice": draft.id}).data != []
    assert client.v1.invoice_items.list({"pending": True}).data == []
    payments = client.v1.invoices.retrieve(draft.id, {"expand": ["payments"]}).payments
    assert payments is not None and [p.amount_paid for p in payments.data] == [paid.amount_paid]
    assert client.v1.invoice_payments.retrieve(payments.data[0].id).invoice == draft.id


def test_void_and_paid_out_of_band(client: stripe.StripeClient, shop) -> None:
    sub = pending_credit(client, shop)
    first = client.v1.invoices.create({"customer": str(sub.customer)})
    with pytest.raises(stripe.InvalidRequestError, match="only void an open"):
        client.v1.invoices.void_invoice(first.id)
    client.v1.invoices.finalize_invoice(first.id, {"auto_advance": False})
    mark = shop.mark()
    voided = client.v1.invoices.void_invoice(first.id)
    assert (voided.status, voided.amount_remaining) == ("void", 0)
    assert shop.since(mark) == ["invoice.voided"]
    with pytest.raises(stripe.InvalidRequestError, match="only an open invoice can be paid"):
        client.v1.invoices.pay(first.id)

    other = pending_credit(client, shop)
    second = client.v1.invoices.create({"customer": str(other.customer)})
    client.v1.invoices.finalize_invoice(second.id, {"auto_advance": False})
    mark = shop.mark()
    settled = client.v1.invoices.pay(second.id, {"paid_out_of_band": True})
    assert (settled.status, settled.amount_paid_off_stripe) == ("paid", settled.amount_paid)
    assert shop.since(mark) == ["invoice.paid"]  # Stripe took no payment


def test_a_draft_with_auto_advance_is_finalized_and_paid_an_hour_later(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    sub = pending_credit(client, shop)
    draft = client.v1.invoices.create(
        {"customer": str(sub.customer), "subscription": sub.id, "auto_advance": True}
    )
    assert draft.automatically_finalizes_at == draft.created + 3600
    # A minute short of the hour, not a second: the wall clock goes on ticking under the
    # emulator's, and a second spent between the create and the advance must not finalize it.
    emulator.advance_clock(seconds=3600 - 60)
    assert client.v1.invoices.retrieve(draft.id).status == "draft"
    mark = shop.mark()
    emulator.advance_clock(seconds=60)
    assert shop.since(mark) == ["invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]


def test_a_customer_without_pending_items_has_nothing_upcoming(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create({"email": "a@b.c"})
    with pytest.raises(stripe.InvalidRequestError) as none:
        client.v1.invoices.create_preview({"customer": customer.id})
    assert (none.value.http_status, none.value.code) == (404, "invoice_upcoming_none")
