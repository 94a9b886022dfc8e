"""Strict params: a request may only carry what stripe-python's params TypedDicts declare.

The check reads ``stripe.params.*`` at run time, so the emulator follows
Stripe's API as stripe-python is upgraded instead of a hand-kept list.
"""

from __future__ import annotations

import functools
import sys
import types
import typing
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union

from ._wire import StripeError, unknown_parameter

__all__ = ["check_params"]


@functools.cache
def _request_option_keys() -> frozenset[str]:
    from stripe._request_options import RequestOptions

    return frozenset(RequestOptions.__annotations__)


@functools.cache
def _fields(typed: type) -> dict[str, Any]:
    """A params TypedDict's fields (request options are headers, not params)."""
    namespace = {**vars(typing), **vars(sys.modules[typed.__module__])}
    hints: dict[str, Any] = {}
    for klass in reversed(typed.__mro__):
        for name, hint in getattr(klass, "__annotations__", {}).items():
            hints[name] = _resolve(hint, namespace)
    return {k: v for k, v in hints.items() if k not in _request_option_keys()}


def _resolve(hint: Any, namespace: dict[str, Any]) -> Any:
    if isinstance(hint, ForwardRef):
        hint = hint.__forward_arg__
    if isinstance(hint, str):
        try:
            # stripe-python's own annotation strings, e.g. "Literal['payment']|str".
            hint = eval(hint, namespace)  # noqa: S307
        except Exception:
            return Any
    origin = typing.get_origin(hint)
    if origin in (NotRequired, Required):
        return _resolve(typing.get_args(hint)[0], namespace)
    if origin in (Union, types.UnionType, list):
        args = tuple(_resolve(a, namespace) for a in typing.get_args(hint))
        return Union[args] if origin is not list else list[args[0]]  # type: ignore[valid-type]  # noqa: UP007
    return hint


def check_params(params: dict[str, Any], typed: type, prefix: str = "") -> None:
    """Raise Stripe's 400 for the first param ``typed`` does not declare, or a bad choice."""
    fields = _fields(typed)
    for name, value in params.items():
        path = f"{prefix}[{name}]" if prefix else name
        if name not in fields:
            raise unknown_parameter(path)
        _check_value(value, fields[name], path)


def _is_typeddict(hint: Any) -> bool:
    # stripe-python builds its params with typing_extensions.TypedDict, which
    # typing.is_typeddict does not recognise before Python 3.12.
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__")


def _check_value(value: Any, hint: Any, path: str) -> None:
    if value == "":
        return  # Stripe's way to unset a field
    origin = typing.get_origin(hint)
    options = typing.get_args(hint) if origin is Union else (hint,)
    dicts = [o for o in options if _is_typeddict(o)]
    lists = [o for o in options if typing.get_origin(o) is list]
    literals = [o for o in options if typing.get_origin(o) is Literal]
    if isinstance(value, dict) and dicts:
        errors: list[StripeError] = []
        for typed in dicts:
            try:
                check_params(value, typed, path)
                return
            except StripeError as exc:
                errors.append(exc)
        raise errors[0]
    if isinstance(value, list) and lists:
        (element,) = typing.get_args(lists[0])
        for i, item in enumerate(value):
            _check_value(item, element, f"{path}[{i}]")
        return
    if isinstance(value, str) and literals and str not in options:
        allowed = [a for lit in literals for a in typing.get_args(lit) if a != ""]
        if value not in allowed:
            choices = ", ".join(f"`{a}`" for a in allowed)
            raise StripeError(
                400,
                f"Invalid {path}: must be one of {choices}",
                code="parameter_invalid_string",
                param=path,
            )
