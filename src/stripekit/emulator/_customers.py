"""Customers: create, update, list, delete (which cancels their subscriptions)."""

from __future__ import annotations

from typing import Any

from stripe.params import CustomerCreateParams, CustomerListParams, CustomerUpdateParams

from ._core import Emulator, metadata_update
from ._parts import part
from ._routes import route
from ._subscriptions import cancel_subscription, is_live

__all__ = ["create_customer"]

_CUSTOMER_FIELDS = ("email", "name", "description", "phone", "preferred_locales")


@route(
    "POST",
    "/v1/customers",
    CustomerCreateParams,
    honours=(*_CUSTOMER_FIELDS, "metadata"),
)
def create_customer(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    values = {k: params[k] for k in _CUSTOMER_FIELDS if k in params}
    customer = emu.state.new(
        "customer",
        **values,
        metadata=metadata_update({}, params.get("metadata", {})),
        balance=0,
        delinquent=False,
        invoice_prefix=f"EMU{len(emu.state.all('customer')) + 1:05d}",
        invoice_settings=part("customer", "invoice_settings"),
        preferred_locales=params.get("preferred_locales", []),
        tax_exempt="none",
    )
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
    honours=(*_CUSTOMER_FIELDS, "metadata"),
)
def update_customer(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = emu.state.get("customer", id)
    before = dict(customer)
    for key in _CUSTOMER_FIELDS:
        if key in params:
            customer[key] = params[key] or None
    if "metadata" in params:
        customer["metadata"] = metadata_update(customer["metadata"], params["metadata"])
    emu.emit_updated("customer.updated", customer, before)
    return customer


@route("GET", "/v1/customers", CustomerListParams, honours=("email",))
def list_customers(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("customer")
    if params.get("email"):
        items = [c for c in items if c.get("email") == params["email"]]
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
