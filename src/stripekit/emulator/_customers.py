"""Customers: create, update, list, delete (which cancels their subscriptions)."""

from __future__ import annotations

from typing import Any

from stripe.params import CustomerCreateParams, CustomerListParams, CustomerUpdateParams

from ._core import Emulator, matching, metadata_update
from ._parts import part
from ._payment_methods import attach, customer_default, payment_method
from ._routes import route
from ._subscriptions import cancel_subscription, is_live
from ._wire import StripeError

__all__ = ["create_customer", "delete_customer"]

_CUSTOMER_FIELDS = ("email", "name", "description", "phone", "preferred_locales")


@route(
    "POST",
    "/v1/customers",
    CustomerCreateParams,
    honours=(
        *_CUSTOMER_FIELDS,
        "metadata",
        "payment_method",
        "invoice_settings[default_payment_method]",
        "test_clock",
    ),
)
def create_customer(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    """A customer (``customer.created``), maybe on a test clock, with a card saved to it.

    ``invoice_settings[default_payment_method]`` must name the card given as
    ``payment_method`` (a new customer has no other).
    """
    values = {"preferred_locales": [], **{k: params[k] for k in _CUSTOMER_FIELDS if k in params}}
    clock = None
    if params.get("test_clock"):
        clock = emu.state.get(
            "test_helpers.test_clock", params["test_clock"], resource="test_clock",
            param="test_clock",
        )["id"]  # fmt: skip
    pm = payment_method(emu, params["payment_method"]) if params.get("payment_method") else None
    default = (params.get("invoice_settings") or {}).get("default_payment_method")
    if default and (pm is None or default not in (params["payment_method"], pm["id"])):
        raise StripeError(
            400,
            f"The customer does not have a payment method with the ID {default}: give it as "
            "payment_method too, or attach it after creating the customer.",
            param="invoice_settings[default_payment_method]",
        )
    customer = emu.state.new(
        "customer",
        **values,
        metadata=metadata_update({}, params.get("metadata", {})),
        balance=0,
        delinquent=False,
        invoice_prefix=f"EMU{len(emu.state.all('customer')) + 1:05d}",
        invoice_settings=part(
            "customer",
            "invoice_settings",
            default_payment_method=pm["id"] if default and pm else None,
        ),
        tax_exempt="none",
        test_clock=clock,
    )
    if pm is not None:
        attach(emu, pm, customer["id"])
    emu.emit("customer.created", customer)
    return customer


@route("GET", "/v1/customers/{id}")
def retrieve_customer(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    # Stripe still answers for a deleted customer, with `{"deleted": true}`.
    return emu.state.get("customer", id, deleted_too=True)


@route(
    "POST",
    "/v1/customers/{id}",
    CustomerUpdateParams,
    honours=(*_CUSTOMER_FIELDS, "metadata", "invoice_settings[default_payment_method]"),
)
def update_customer(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Change a customer (``customer.updated``); its default card for invoices too."""
    customer = emu.state.get("customer", id)
    before = emu.state.public(customer)
    settings = params.get("invoice_settings") or {}
    if "default_payment_method" in settings:
        given = settings["default_payment_method"]
        customer["invoice_settings"] = {
            **customer["invoice_settings"],
            "default_payment_method": customer_default(
                emu, id, given, param="invoice_settings[default_payment_method]"
            )
            if given
            else None,
        }
    for key in _CUSTOMER_FIELDS:
        if key in params:
            customer[key] = params[key] or None
    if "metadata" in params:
        customer["metadata"] = metadata_update(customer["metadata"], params["metadata"])
    emu.emit_updated("customer.updated", customer, before)
    return customer


@route("GET", "/v1/customers", CustomerListParams, honours=("email", "test_clock"))
def list_customers(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("customer")
    items = matching(items, params, "email", "test_clock")
    return emu.list_of(items, params, "/v1/customers", "customer")


@route("DELETE", "/v1/customers/{id}")
def delete_customer(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Cancel the customer's subscriptions at once, then delete it (``customer.deleted``).

    Stripe cancels the subscriptions of a deleted customer; the emulator sends
    their ``customer.subscription.deleted`` before ``customer.deleted`` (the
    order in which it does them; Stripe does not document one).
    """
    customer = emu.state.get("customer", id)
    for sub in reversed(emu.state.all("subscription")):
        if sub["customer"] == id and is_live(sub):
            cancel_subscription(emu, sub, at_period_end=False)
    emu.emit("customer.deleted", customer)
    emu.state.delete(id)
    return emu.state.public(emu.state.objects[id])
