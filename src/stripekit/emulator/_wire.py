"""Stripe's wire format: nested form params in, Stripe's error JSON out."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["StripeError", "decode_form", "missing", "not_emulated", "unknown_parameter"]

_SEGMENT = re.compile(r"\[([^\]]*)\]")
_DOCS = "https://docs.stripe.com/error-codes"


class StripeError(Exception):
    """An error answered the way Stripe answers it: a status and ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON Stripe sends with this error."""
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"{_DOCS}/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


def missing(resource: str, object_id: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an id it does not have."""
    return StripeError(
        404, f"No such {resource}: '{object_id}'", code="resource_missing", param=param
    )


def unknown_parameter(param: str) -> StripeError:
    """Stripe's 400 for a parameter its API does not have."""
    return StripeError(
        400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def not_emulated(param: str, why: str = "", value: str | None = None) -> StripeError:
    """The emulator's 400 for a param Stripe takes but the emulator cannot honour."""
    shown = param if value is None else f"{param}={value}"
    reason = why or (
        "Stripe takes it, but the emulator cannot act on it; leave it out "
        "(docs/emulator.md lists what each request honours)"
    )
    return StripeError(400, f"not emulated: {shown}. {reason}.", param=param)


def decode_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=1&expand[]=x`` → ``{"a": {"b": [{"c": "1"}]}, "expand": ["x"]}``.

    Raises StripeError (400) for a key whose brackets do not close.
    """
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_SEGMENT.findall("[" + rest)] if rest else [head]
        if rest and "".join(f"[{p}]" for p in path[1:]) != "[" + rest:
            raise StripeError(400, f"Invalid parameter name: {key}", param=key)
        _put(root, path, value)
    decoded: dict[str, Any] = _listify(root)
    return decoded


def _put(node: dict[str, Any], path: list[str], value: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":
            # `expand[]=a&expand[]=b`: an appended list element, kept as a numbered key.
            part = str(sum(1 for k in node if k.isdigit()))
        if last:
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise StripeError(400, f"Invalid parameter: {'.'.join(path)}", param=path[0])
        node = child


def _listify(node: Any) -> Any:
    """Dicts whose keys are all indexes become lists (Stripe's ``items[0][price]``)."""
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items
