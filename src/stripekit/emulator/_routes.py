"""The API's route table: each resource module registers its handlers with ``@route``.

A route names the params TypedDict of stripe-python it takes (anything else is
Stripe's "unknown parameter" 400) and the params it *honours*: a param Stripe
takes but the emulator cannot act on is refused with a 400 that says "not
emulated", never accepted and ignored. ``honours`` entries are param paths
without list indexes (``items[price]``), optionally limited to some values
(``mode=payment|subscription|setup``); a path covers everything below it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._core import matching
from ._params import Honoured, check_declared, check_honoured, check_params
from ._schedule import run_due

if TYPE_CHECKING:
    from ._core import Emulator

__all__ = ["ROUTES", "Route", "plain_resource", "route"]

Handler = Callable[..., dict[str, Any]]

# Every request may expand; lists page and filter by creation time in `Emulator.list_of`.
_ALWAYS = ("expand",)
_LISTS = ("limit", "starting_after", "ending_before", "created")


@dataclass(frozen=True)
class Route:
    """One API operation: method, path, handler, its params TypedDict and what it honours."""

    method: str
    path: str
    pattern: re.Pattern[str]
    handler: Handler
    params: type | None
    honours: tuple[Honoured, ...]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path's ids if this route serves it, else None."""
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    @property
    def honoured(self) -> list[str]:
        """The honoured params as written (generic ones left out), for the docs' table."""
        generic = {*_ALWAYS, *_LISTS}
        return [h.text for h in self.honours if h.text not in generic]


ROUTES: list[Route] = []


def route(
    method: str, path: str, params: type | None = None, *, honours: Iterable[str] = ()
) -> Callable[[Handler], Handler]:
    """Register ``handler(emulator, params, **ids)`` for ``METHOD /v1/...{id}``.

    Raises at import time when ``honours`` names a param ``params`` does not declare.
    """
    pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path))
    given = [Honoured.parse(text) for text in honours]
    if params is not None:
        for honoured in given:
            check_declared(params, honoured, where=f"{method} {path}")
        generic = _ALWAYS + (_LISTS if method == "GET" else ())
        given += [Honoured.parse(name) for name in generic]

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, path, pattern, handler, params, tuple(given)))
        return handler

    return register


def plain_resource(
    kind: str,
    path: str,
    list_params: type,
    *,
    filters: tuple[str, ...] = (),
    resource: str | None = None,
) -> None:
    """Register Stripe's plain ``GET path/{id}`` and ``GET path`` (filtered by equal fields)."""
    name = resource or kind

    def retrieve(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
        return emu.state.get(kind, id, resource=name)

    def list_all(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
        return emu.list_of(matching(emu.state.all(kind), params, *filters), params, path, name)

    route("GET", f"{path}/{{id}}")(retrieve)
    route("GET", path, list_params, honours=filters)(list_all)


def check_connected(emu: Emulator, account: str) -> None:
    """Stripe's 403 for a ``Stripe-Account`` that is not one of the platform's accounts."""
    from ._wire import StripeError

    found = emu.state.objects.get(account)
    if found is None or found.get("object") != "account" or found.get("_account") is not None:
        raise StripeError(
            403,
            f"The provided key does not have access to account '{account}' (or that account "
            "does not exist). Application access may have been revoked.",
            code="account_invalid",
        )


def find(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving a request, with its path ids; a literal segment wins over an id.

    (``/v1/invoices/create_preview`` is not the invoice ``create_preview``.)
    """
    found = [(r, ids) for r in ROUTES if (ids := r.match(method, path)) is not None]
    if not found:
        return None
    return min(found, key=lambda pair: pair[0].pattern.groups)


def handle(
    emu: Emulator,
    method: str,
    path: str,
    params: dict[str, Any],
    account: str | None = None,
) -> dict[str, Any]:
    """Run the operation, for ``account`` (``Stripe-Account``; None: the platform);
    StripeError for an unknown URL, bad params or an account that is not connected."""
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
        check_honoured(params, operation.honours)
    else:
        # A retrieve takes nothing but expand[].
        extra = next((k for k in params if k != "expand"), None)
        if extra is not None:
            raise unknown_parameter(extra)
    with emu.state.locked():
        # What fell due while real time passed happens first (a long-running emulator).
        run_due(emu, until=emu.state.clock.now())
        with emu.state.acting_as(account):
            if account is not None:
                check_connected(emu, account)
            try:
                result = operation.handler(emu, params, **ids)
            finally:
                emu.settle()  # what the request did stays done, even when it then failed
        if result.get("object") == "list":
            return result
        if result.get("deleted"):
            return emu.state.public(result)
        return emu.render(result, expand)
