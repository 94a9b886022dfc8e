"""The emulator as an ASGI app: Stripe's API under /v1, the hosted pages, a control API."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from stripekit._shapes import random_id

from ._clock import advance_clock
from ._core import Emulator
from ._pages import page_routes
from ._publishable import View, client_side
from ._routes import handle
from ._wire import StripeError, decode_form

__all__ = ["create_app"]

logger = logging.getLogger("stripekit.emulator")


def create_app(emulator: Emulator) -> Starlette:
    """The ASGI app serving ``emulator``."""

    async def api(request: Request) -> Response:
        request_id = random_id("req_", 14)
        try:
            status, body, replayed = await _api_call(emulator, request, request_id)
        except StripeError as exc:
            status, body, replayed = exc.status, exc.body(request_id), False
        except Exception:
            # A bug in the emulator: answer like Stripe's own 500, and say where to look.
            logger.exception("emulator error on %s %s", request.method, request.url.path)
            status, body, replayed = 500, _internal_error().body(request_id), False
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": request.headers.get("stripe-version", ""),
            # As Stripe's API: Stripe.js calls it from the shop's pages (publishable key).
            "Access-Control-Allow-Origin": "*",
        }
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        logger.info("%s %s → %d", request.method, request.url.path, status)
        return JSONResponse(body, status_code=status, headers=headers)

    async def reset(request: Request) -> Response:
        emulator.reset()
        return JSONResponse({"reset": True})

    async def clock(request: Request) -> Response:
        values = await _control_values(request)
        try:
            seconds = int(values.get("seconds", 0)) + int(values.get("days", 0)) * 86400
        except ValueError:
            return JSONResponse(
                {"error": {"message": "give seconds= or days= as whole numbers"}}, 400
            )
        try:
            now = advance_clock(emulator, seconds)
        except StripeError as exc:
            return JSONResponse(exc.body(random_id("req_", 14)), exc.status)
        return JSONResponse({"now": now})

    async def dunning(request: Request) -> Response:
        values = await _control_values(request)
        try:
            days = values.get("retry_days")
            emulator.configure_dunning(
                retry_days=None
                if days is None
                else tuple(int(d) for d in days.replace(" ", "").split(",") if d),
                then=values.get("then"),
            )
        except ValueError:
            return JSONResponse(
                {"error": {"message": "retry_days: whole days, comma-separated (3,5,7)"}}, 400
            )
        except StripeError as exc:
            return JSONResponse(exc.body(random_id("req_", 14)), exc.status)
        settings = emulator.state.dunning
        return JSONResponse({"retry_days": list(settings.retry_days), "then": settings.then})

    async def deliveries(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "event": d.event_id,
                    "type": d.event_type,
                    "url": d.url,
                    "attempt": d.attempt,
                    "status": d.status,
                    "error": d.error,
                    "at": d.at,
                }
                for d in emulator.deliveries
            ]
        )

    async def preflight(request: Request) -> Response:
        return Response(status_code=204, headers=_CORS)

    async def stripe_js(request: Request) -> Response:
        return PlainTextResponse(
            _stripe_js(),
            media_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"},
        )

    routes = [
        Route("/v1/{path:path}", api, methods=["GET", "POST", "DELETE"]),
        Route("/v1/{path:path}", preflight, methods=["OPTIONS"]),
        # The Stripe.js stand-in, where js.stripe.com serves Stripe.js.
        Route("/v3/", stripe_js, methods=["GET"]),
        Route("/v3", stripe_js, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/clock", clock, methods=["POST"]),
        Route("/_emulator/dunning", dunning, methods=["POST"]),
        Route("/_emulator/deliveries", deliveries, methods=["GET"]),
        *page_routes(emulator),
    ]
    return Starlette(routes=routes)


# Stripe keeps an idempotent answer once the endpoint has started executing, errors
# included (a decline, its own 500); a request refused by validation keeps nothing.
_KEPT_ERRORS = ("card_error", "api_error")


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
    "Access-Control-Max-Age": "600",
}


def _stripe_js() -> str:
    from importlib.resources import files

    return files("stripekit.emulator").joinpath("static/stripe.js").read_text(encoding="utf-8")


async def _api_call(
    emulator: Emulator, request: Request, request_id: str
) -> tuple[int, dict[str, Any], bool]:
    method = request.method
    if method == "POST":
        raw = (await request.body()).decode("utf-8", errors="replace")
    else:
        raw = request.url.query
    params = decode_form(raw)
    path = request.url.path
    api_key = _api_key(request.headers.get("authorization", ""), params)
    account = request.headers.get("stripe-account") or None  # Connect: acting for it
    view: View | None = None
    if api_key.startswith("pk_"):
        # Stripe.js loaded for a connected account (Stripe(key, {stripeAccount})) names
        # it in the request, as Stripe.js does: the browser sets no Stripe-Account header.
        account = account or _browser_account(params)
        view = client_side(emulator, method, path, params)
    status, body, replayed = _answer(
        emulator, method, path, params, api_key, account, request, request_id
    )
    if view is not None and status == 200:
        body = view(body)
    return status, body, replayed


def _answer(
    emulator: Emulator,
    method: str,
    path: str,
    params: dict[str, Any],
    api_key: str,
    account: str | None,
    request: Request,
    request_id: str,
) -> tuple[int, dict[str, Any], bool]:
    key = request.headers.get("idempotency-key") if method == "POST" else None
    if key is None:
        return 200, handle(emulator, method, path, params, account), False
    if account is not None:
        api_key = f"{api_key}/{account}"  # each account's idempotency keys are its own
    # One lock from the replay check to the answer kept: the same key sent twice at
    # once runs the operation once.
    with emulator.state.locked():
        earlier = emulator.state.replay(api_key, key, method, path, params)
        if earlier is not None:
            return earlier[0], earlier[1], True
        snapshot = json.loads(json.dumps(params))  # handlers may consume params
        try:
            status, body = 200, handle(emulator, method, path, params, account)
        except StripeError as exc:
            if exc.type not in _KEPT_ERRORS:
                raise
            status, body = exc.status, exc.body(request_id)
        except Exception:
            logger.exception("emulator error on %s %s", method, path)
            status, body = 500, _internal_error().body(request_id)
        emulator.state.remember(api_key, key, method, path, snapshot, status, body)
    return status, body, False


def _internal_error() -> StripeError:
    return StripeError(500, "The emulator failed on this request (see its log).", type="api_error")


def _browser_account(params: dict[str, Any]) -> str | None:
    """The connected account a browser's request names (``_stripe_account``), taken out of
    ``params``; a value that is not an id is Stripe's 400."""
    given = params.pop("_stripe_account", None)
    if given is None or given == "":
        return None
    if not isinstance(given, str) or not given.startswith("acct_"):
        raise StripeError(
            400, f"Invalid Stripe account: {str(given)[:40]!r}", param="_stripe_account"
        )
    return given


def _api_key(authorization: str, params: dict[str, Any]) -> str:
    """The request's key: the Authorization header's, or a publishable key in ``key``
    (where Stripe.js sends it)."""
    scheme, _, credentials = authorization.partition(" ")
    key = credentials.strip()
    given = params.pop("key", None)
    if not key and isinstance(given, str):
        if not given.startswith("pk_"):
            raise StripeError(
                401,
                "Only a publishable key (pk_test_...) may be sent as the `key` parameter; a "
                "secret key goes in the Authorization header, from your server, never from a "
                "browser.",
            )
        key = given
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except ValueError:
            key = ""
    if not key:
        raise StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.",
        )
    if not key.startswith(("sk_test_", "rk_test_", "pk_test_")):
        shown = f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"
        hint = " (the emulator takes test keys only: sk_test_..., or pk_test_... from a browser)"
        raise StripeError(401, f"Invalid API Key provided: {shown}{hint}")
    return key


async def _control_values(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await request.json()
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl((await request.body()).decode() or request.url.query))
