"""Nested parts of Stripe objects, shaped like stripe-python declares them.

``shape("checkout.session")`` gives ``customer_details: None`` (Stripe allows
null there); once the emulator fills such a part in, it starts from the full
declared shape so it has every key Stripe sends (``business_name``...), not
just the ones the emulator thought of.
"""

from __future__ import annotations

import functools
import importlib
import types
import typing
from typing import Any, Union

from stripekit._shapes import shape_of_class

__all__ = ["part"]


def part(object_name: str, *path: str, **values: Any) -> dict[str, Any]:
    """The shape of ``object_name``'s nested ``path``, updated with ``values``.

    Example:
        >>> sorted(part("subscription", "invoice_settings", footer="x"))[:3]
        ['account_tax_ids', 'custom_fields', 'description']
    """
    shaped = shape_of_class(_nested_class(object_name, path), depth=1)
    shaped.update(values)
    return shaped


@functools.cache
def _nested_class(object_name: str, path: tuple[str, ...]) -> type:
    from stripe._object_classes import OBJECT_CLASSES

    module, name = OBJECT_CLASSES[object_name]
    cls: type = getattr(importlib.import_module(module), name)
    for field in path:
        cls = _field_class(cls, field)
    return cls


def _field_class(cls: type, field: str) -> type:
    for klass in cls.__mro__:
        hint = getattr(klass, "__annotations__", {}).get(field)
        if hint is not None:
            break
    else:
        raise KeyError(f"{cls.__name__} declares no field {field!r}")
    while typing.get_origin(hint) in (Union, types.UnionType, list):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if not isinstance(hint, type):
        raise TypeError(f"{cls.__name__}.{field} is not a nested object ({hint!r})")
    return hint
