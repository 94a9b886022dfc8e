"""Stripe-shaped objects, built from stripe-python's own class annotations.

stripe-python declares every field of every API object (``stripe.Invoice``
has ``amount_due: int``, ``customer: Optional[ExpandableField[Customer]]``...),
so a sample made from those declarations has the keys and types of the real
object and follows Stripe's API as stripe-python is upgraded. Values are
neutral (``None`` where Stripe allows null, ``0``, ``""``, the first allowed
literal) except ids, which get Stripe's prefixes, and a few fields a handler
usually reads, which get plausible values. The emulator starts every object it
returns from such a shape; ``stripekit.testing`` hands them to tests.
"""

from __future__ import annotations

import importlib
import secrets
import string
import time
import types
import typing
from typing import Any, ForwardRef, Literal, Union

__all__ = [
    "ID_PREFIXES", "object_name_for_event", "random_id", "sample_object", "shape", "shape_of_class",
]  # fmt: skip

# Id prefixes Stripe uses per object type (test mode where it differs).
ID_PREFIXES = {
    "billing_portal.session": "bps_",
    "charge": "ch_",
    "checkout.session": "cs_test_",
    "coupon": "co_",
    "customer": "cus_",
    "discount": "di_",
    "event": "evt_",
    "invoice": "in_",
    "invoiceitem": "ii_",
    "line_item": "li_",
    "payment_intent": "pi_",
    "payment_method": "pm_",
    "plan": "price_",
    "price": "price_",
    "product": "prod_",
    "promotion_code": "promo_",
    "refund": "re_",
    "setup_intent": "seti_",
    "subscription": "sub_",
    "subscription_item": "si_",
    "tax_id": "txi_",
    "webhook_endpoint": "we_",
}

# Event types whose name does not start with the object's own name.
_EVENT_OBJECTS = {
    "customer.subscription": "subscription",
    "customer.discount": "discount",
    "customer.tax_id": "tax_id",
    "customer.source": "source",
    "customer.cash_balance_transaction": "customer_cash_balance_transaction",
    "invoice_payment": "invoice_payment",
}

# What a handler typically reads, in the state the event's name implies.
_PLAUSIBLE: dict[str, dict[str, Any]] = {
    "checkout.session": {
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "currency": "usd",
        "amount_subtotal": 2000,
        "amount_total": 2000,
        "customer_email": "jenny.rosen@example.com",
    },
    "invoice": {"status": "paid", "currency": "usd", "amount_due": 2000, "amount_paid": 2000},
    "payment_intent": {"status": "succeeded", "currency": "usd", "amount": 2000},
    "subscription": {
        "status": "active",
        "currency": "usd",
        "collection_method": "charge_automatically",
    },
    "customer": {"email": "jenny.rosen@example.com", "name": "Jenny Rosen"},
    "price": {"currency": "usd", "unit_amount": 2000, "type": "one_time", "active": True},
    "product": {"name": "Sample product", "active": True},
    "charge": {"status": "succeeded", "currency": "usd", "amount": 2000, "paid": True},
}

_ALPHABET = string.ascii_letters + string.digits
_MAX_DEPTH = 3


def random_id(prefix: str, length: int = 24) -> str:
    """A random id with Stripe's shape: ``random_id("cus_")`` → ``cus_Xy3...``."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def object_name_for_event(event_type: str) -> str:
    """The ``object`` an event of this type carries: ``invoice.paid`` → ``invoice``.

    Example:
        >>> object_name_for_event("customer.subscription.updated")
        'subscription'
    """
    name = event_type.rsplit(".", 1)[0]
    return _EVENT_OBJECTS.get(name, name)


def sample_object(object_name: str) -> dict[str, Any]:
    """A Stripe-shaped ``object_name`` (``"invoice"``, ``"checkout.session"``...).

    An object stripe-python does not know gets just ``id`` and ``object``.

    Example:
        >>> invoice = sample_object("invoice")
        >>> invoice["object"], invoice["id"][:3], "amount_due" in invoice
        ('invoice', 'in_', True)
    """
    obj = shape(object_name)
    obj.update(_PLAUSIBLE.get(object_name, {}))
    obj["id"] = random_id(ID_PREFIXES.get(object_name, "obj_"))
    obj["object"] = object_name
    if "created" in obj:
        obj["created"] = int(time.time())
    if "livemode" in obj:
        obj["livemode"] = False
    return obj


def shape(object_name: str) -> dict[str, Any]:
    """Every key stripe-python declares for ``object_name``, with neutral values.

    Example:
        >>> shape("price")["unit_amount"] is None
        True
    """
    from stripe._object_classes import OBJECT_CLASSES

    if object_name not in OBJECT_CLASSES:
        return {"object": object_name}
    module, name = OBJECT_CLASSES[object_name]
    obj = _fill(getattr(importlib.import_module(module), name), depth=0)
    obj["object"] = object_name
    return obj


def shape_of_class(cls: type, depth: int = 0) -> dict[str, Any]:
    """Every key a stripe-python class declares (a nested one too, e.g. an invoice's line).

    Example:
        >>> import stripe
        >>> "amount_due" in shape_of_class(stripe.Invoice)
        True
    """
    return _fill(cls, depth)


def _fill(cls: type, depth: int) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        fields.update(getattr(klass, "__annotations__", {}))
    return {
        name: _value(name, hint, depth)
        for name, hint in fields.items()
        # `deleted` is declared on many classes but only sent on deletion answers.
        if not name.startswith("_")
        and name != "deleted"
        and typing.get_origin(hint) is not typing.ClassVar
    }


def _value(name: str, hint: Any, depth: int) -> Any:
    if name == "metadata":
        return {}  # declared nullable, but Stripe always sends an object
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if type(None) in args:
            return None
        return _value(name, args[0], depth)
    if origin is Literal:
        return args[0]
    if isinstance(hint, ForwardRef | str):
        # ExpandableField["Customer"] and friends: unexpanded, they are an id.
        return random_id(ID_PREFIXES.get(name, "obj_"))
    if origin is list:
        return []
    if origin is dict:
        return {}
    cls = origin or hint
    if isinstance(cls, type):
        return _class_value(name, cls, hint, depth)
    return None


def _class_value(name: str, cls: type, hint: Any, depth: int) -> Any:
    if cls is bool:
        return False
    if cls is int:
        return 0
    if cls is float:
        return 0.0
    if cls is str:
        return ""
    from stripe import ListObject, StripeObject

    if issubclass(cls, ListObject):
        return {"object": "list", "data": [], "has_more": False, "url": f"/v1/{name}"}
    if issubclass(cls, StripeObject):
        if typing.get_origin(hint) is not None or depth >= _MAX_DEPTH:
            return {}  # UntypedStripeObject[str] (metadata) and very deep nesting
        return _fill(cls, depth + 1)
    return None
