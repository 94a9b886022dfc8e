"""Subscriptions created through the API and paid in the page: ``default_incomplete``.

``POST /v1/subscriptions`` with ``payment_behavior=default_incomplete`` makes an
``incomplete`` subscription whose first invoice is open, with a payment intent
the browser confirms (the Payment Element, ``stripe.confirmPayment``) with the
publishable key and the invoice's ``confirmation_secret``. When that payment
succeeds the invoice is paid and the subscription ``active``; a decline leaves
both as they were, for the buyer to try another card.

Events in Stripe's order: ``customer.subscription.created`` (incomplete),
``invoice.created``, ``invoice.finalized``, ``payment_intent.created``; then
``payment_intent.succeeded``, ``invoice.paid``, ``invoice.payment_succeeded``,
``customer.subscription.updated`` (active); or ``payment_intent.payment_failed``,
``invoice.payment_failed``.
"""

from __future__ import annotations

from typing import Any

from stripe.params import SubscriptionCreateParams

from ._computed import computed
from ._core import Emulator, as_int, metadata_update, required
from ._invoices import finalize, mark_paid, new_invoice
from ._parts import part
from ._payment_methods import attach
from ._payments import SETTLED, new_payment_intent
from ._periods import item_lines
from ._routes import route
from ._state import State
from ._subscriptions import new_subscription
from ._wire import StripeError

__all__: list[str] = []


@route(
    "POST",
    "/v1/subscriptions",
    SubscriptionCreateParams,
    honours=(
        "customer",
        "items[price]",
        "items[quantity]",
        "metadata",
        "payment_behavior=default_incomplete",
        "payment_settings[save_default_payment_method]",
    ),
)
def create_subscription(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("payment_behavior") != "default_incomplete":
        raise StripeError(
            400,
            "The emulator creates subscriptions with payment_behavior=default_incomplete only "
            "(paid in the page); subscribe through Checkout for the others.",
            param="payment_behavior",
        )
    customer = str(required(params, "customer"))
    emu.state.get("customer", customer, param="customer")
    save = (params.get("payment_settings") or {}).get("save_default_payment_method") or "off"
    if save not in ("off", "on_subscription"):
        raise StripeError(
            400,
            "payment_settings[save_default_payment_method] must be off or on_subscription.",
            param="payment_settings[save_default_payment_method]",
        )
    items = _items(emu, params.get("items") or [])
    sub, end = new_subscription(
        emu,
        customer=customer,
        items=items,
        trial_end=None,
        metadata=metadata_update({}, params.get("metadata", {})),
        payment_method=None,
        status="incomplete",
        save_default_payment_method=save,
    )
    invoice = new_invoice(
        emu,
        sub,
        reason="subscription_create",
        lines=item_lines(emu, sub),
        start=sub["start_date"],
        end=end,
    )
    sub["latest_invoice"] = invoice["id"]
    finalize(emu, invoice)
    if invoice["amount_remaining"] == 0:
        mark_paid(emu, invoice)
        _activate(emu, sub)
        return sub
    intent = new_payment_intent(
        emu,
        amount=invoice["amount_remaining"],
        currency=invoice["currency"],
        customer=customer,
        metadata={},
        description="Subscription creation",
    )
    intent["_invoice"] = invoice["id"]
    invoice["_payment_intent"] = intent["id"]
    return sub


def _items(emu: Emulator, given: list[Any]) -> list[tuple[dict[str, Any], int]]:
    if not given:
        raise StripeError(
            400, "Missing required param: items.", code="parameter_missing", param="items"
        )
    found = []
    for i, item in enumerate(given):
        if not isinstance(item, dict) or "price" not in item:
            raise StripeError(
                400,
                "The emulator takes items[][price] (a Price id); price_data is not emulated.",
                param=f"items[{i}][price]",
            )
        price = emu.state.get("price", item["price"], param=f"items[{i}][price]")
        if not price["active"] or not price["recurring"]:
            raise StripeError(
                400,
                f"The price `{price['id']}` is not an active recurring price.",
                param=f"items[{i}][price]",
            )
        quantity = as_int(item, "quantity", default=1, path=f"items[{i}][quantity]")
        if quantity < 1:
            raise StripeError(
                400, "Quantity must be greater than 0.", param=f"items[{i}][quantity]"
            )
        found.append((price, quantity))
    recurring = {(p["currency"], p["recurring"]["interval"]) for p, _ in found}
    if len(recurring) > 1:
        raise StripeError(
            400, "All prices must have the same currency and interval.", param="items"
        )
    return found


def _after_confirmation(emu: Emulator, intent: dict[str, Any], paid: bool) -> None:
    """The browser paid the first invoice's intent (or failed to): settle the invoice."""
    invoice = emu.state.objects.get(intent["_invoice"])
    if invoice is None or invoice["status"] != "open":
        return
    invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
    if not paid:
        # No automatic retry: the buyer is on the page and tries another card.
        emu.emit("invoice.payment_failed", invoice)
        return
    sub = emu.state.objects.get(invoice.get("subscription") or "")
    pm = emu.state.objects.get(intent.get("payment_method") or "")
    if sub is not None and pm is not None:
        if pm["customer"] is None:
            attach(emu, pm, sub["customer"])
        if sub["payment_settings"]["save_default_payment_method"] == "on_subscription":
            sub["default_payment_method"] = pm["id"]
    mark_paid(emu, invoice, intent=intent)
    if sub is not None and sub["status"] == "incomplete":
        _activate(emu, sub)


def _activate(emu: Emulator, sub: dict[str, Any]) -> None:
    before = emu.state.public(sub)
    sub["status"] = "active"
    emu.emit_updated("customer.subscription.updated", sub, before)


SETTLED.append(_after_confirmation)


@computed("invoice", "confirmation_secret")
def _confirmation_secret(state: State, invoice: dict[str, Any]) -> dict[str, Any] | None:
    """What the page confirms the invoice's payment with (``expand[]=confirmation_secret``)."""
    stored = state.objects.get(invoice["id"], {})  # the rendered copy has no private keys
    intent = state.objects.get(stored.get("_payment_intent") or "")
    if intent is None or stored.get("status") != "open":
        return None
    return part(
        "invoice",
        "confirmation_secret",
        client_secret=intent["client_secret"],
        type="payment_intent",
    )
