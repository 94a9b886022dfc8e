"""The API's route table: each resource module registers its handlers with ``@route``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core import Emulator

__all__ = ["ROUTES", "Route", "route"]

Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """One API operation: method, path pattern, handler and the params TypedDict it takes."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    params: type | None

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path's ids if this route serves it, else None."""
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


ROUTES: list[Route] = []


def route(method: str, path: str, params: type | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler(emulator, params, **ids)`` for ``METHOD /v1/...{id}``."""
    pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path))

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, pattern, handler, params))
        return handler

    return register


def find(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving a request, with its path ids."""
    for candidate in ROUTES:
        ids = candidate.match(method, path)
        if ids is not None:
            return candidate, ids
    return None


def handle(emu: Emulator, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run the operation; StripeError for an unknown URL or bad params."""
    from ._params import check_params
    from ._wire import StripeError, unknown_parameter

    # `/v1/customers/search` would pass for a customer's id; search is not emulated.
    found = None if path.endswith("/search") else find(method, path)
    if found is None:
        raise StripeError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
        )
    operation, ids = found
    expand = params.get("expand", [])
    if not isinstance(expand, list):
        expand = params["expand"] = [expand]
    if operation.params is not None:
        check_params(params, operation.params)
    else:
        # A retrieve takes nothing but expand[].
        extra = next((k for k in params if k != "expand"), None)
        if extra is not None:
            raise unknown_parameter(extra)
    with emu.state.lock:
        result = operation.handler(emu, params, **ids)
        if result.get("object") == "list" or result.get("deleted"):
            return result
        return emu.render(result, expand)
