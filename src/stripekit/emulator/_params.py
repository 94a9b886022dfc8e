"""Strict params: a request may only carry what stripe-python's params TypedDicts declare,
and only what the emulator honours of that.

The check reads ``stripe.params.*`` at run time, so the emulator follows
Stripe's API as stripe-python is upgraded instead of a hand-kept list. A
declared param the emulator cannot act on is refused ("not emulated"), so a
test never passes against the emulator while it ignores what the test asked for.
"""

from __future__ import annotations

import functools
import re
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union

from ._wire import StripeError, not_emulated, unknown_parameter

__all__ = ["Honoured", "check_declared", "check_honoured", "check_params"]


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
        if int in options and value.lstrip("-").isdigit():
            return  # `trial_end=now` or a timestamp: the form sends both as text
        allowed = [a for lit in literals for a in typing.get_args(lit) if a != ""]
        if value not in allowed:
            choices = ", ".join(f"`{a}`" for a in allowed)
            raise StripeError(
                400,
                f"Invalid {path}: must be one of {choices}",
                code="parameter_invalid_string",
                param=path,
            )


# -- what the emulator honours ------------------------------------------------------------------


@dataclass(frozen=True)
class Honoured:
    """A param path the emulator acts on (``items[price]``), maybe for some values only."""

    text: str
    segments: tuple[str, ...]
    values: frozenset[str] | None

    @classmethod
    def parse(cls, text: str) -> Honoured:
        """``"mode=payment|setup"`` → segments ``("mode",)``, values ``{"payment", "setup"}``."""
        path, _, values = text.partition("=")
        head, _, rest = path.partition("[")
        segments = (head, *re.findall(r"([^\[\]]+)\]", "[" + rest)) if rest else (head,)
        return cls(text, segments, frozenset(values.split("|")) if values else None)


def check_declared(typed: type, honoured: Honoured, *, where: str) -> None:
    """Raise ValueError (at import time) when ``typed`` has no param at ``honoured``'s path."""
    fields = _fields(typed)
    for depth, segment in enumerate(honoured.segments):
        if segment not in fields:
            raise ValueError(
                f"{where} honours {honoured.text!r}, but {typed.__name__} declares no "
                f"{segment!r} there"
            )
        if depth + 1 < len(honoured.segments):
            nested = _typeddict_in(fields[segment])
            if nested is None:
                raise ValueError(f"{where} honours {honoured.text!r}: {segment} has no fields")
            fields = _fields(nested)


def _typeddict_in(hint: Any) -> type | None:
    origin = typing.get_origin(hint)
    options = typing.get_args(hint) if origin is Union else (hint,)
    for option in options:
        if _is_typeddict(option):
            return typing.cast(type, option)
        if typing.get_origin(option) is list:
            found = _typeddict_in(typing.get_args(option)[0])
            if found is not None:
                return found
    return None


def check_honoured(
    params: dict[str, Any],
    honours: Sequence[Honoured],
    prefix: tuple[str, ...] = (),
    shown: str = "",
) -> None:
    """Raise the "not emulated" 400 for the first param no ``honours`` entry covers."""
    for name, value in params.items():
        path = (*prefix, name)
        where = f"{shown}[{name}]" if shown else name
        covering = next((h for h in honours if path[: len(h.segments)] == h.segments), None)
        if covering is not None:
            if covering.values is not None and len(covering.segments) == len(path):
                for given in value if isinstance(value, list) else [value]:
                    if isinstance(given, str) and given and given not in covering.values:
                        raise not_emulated(where, value=given)
            continue
        deeper = any(h.segments[: len(path)] == path for h in honours)
        if deeper and isinstance(value, dict):
            check_honoured(value, honours, path, where)
        elif deeper and isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                check_honoured(item, honours, path, f"{where}[{i}]")
        else:
            raise not_emulated(where)
