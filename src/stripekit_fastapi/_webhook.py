"""The webhook route's own reading and writing: the one route under load.

The body is read straight from the ASGI ``receive`` (the common delivery is a
single message: no copy, no async generator), and the answer is a response
whose bytes are ready: the outcomes Stripe gets most often (processed,
unhandled, duplicate) are filled in from a template, byte for byte what
``JSONResponse`` renders (``tests/fastapi/test_webhook_response.py`` holds it to
that); every other answer goes through ``JSONResponse`` itself.

``serve_webhook`` is the whole route as an ASGI app, without a ``Request``: the
Starlette route and the webhook middleware (``_middleware``) run it.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from stripekit import StripeKit, WebhookResult

__all__ = ["WebhookEndpoint", "read_body", "serve_webhook", "webhook_response"]

_JSON_HEADERS = ((b"content-type", b"application/json"),)

_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,255}")
"""An event id JSON writes as it is (Stripe's are ``evt_`` and letters and digits)."""

_TEMPLATES = {
    outcome: f'{{"status":"{outcome}","event":"%s"}}'.encode()
    for outcome in ("processed", "unhandled", "duplicate")
}


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, read until its end or until it is over ``limit`` bytes.

    The core answers 413 for anything over the limit, so reading stops there.

    Raises:
        ClientDisconnect: the client went away before the body was complete.
    """
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnect()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = bytearray(body)
    while len(chunks) <= limit:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunks += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return bytes(chunks)


async def serve_webhook(kit: StripeKit, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one delivery: its raw body and headers to the core, the result back.

    Raises:
        ClientDisconnect: the client went away before the body was complete (as
            ``Request.body()`` does; nothing was recorded).
    """
    body = await read_body(receive, kit.settings.webhook_max_bytes)
    result = await kit.ahandle_webhook(body, Headers(scope=scope))
    await webhook_response(result)(scope, receive, send)


class WebhookEndpoint:
    """The webhook route's endpoint as an ASGI app: Starlette's ``Route`` runs it as
    it is (no ``Request`` built, no handler wrapped), the method checked by the route."""

    __slots__ = ("kit",)

    def __init__(self, kit: StripeKit) -> None:
        self.kit = kit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve_webhook(self.kit, scope, receive, send)


def webhook_response(result: WebhookResult) -> Response:
    """The HTTP answer for a processed delivery: its status and its JSON body."""
    template = _TEMPLATES.get(result.outcome)
    event_id = result.event_id
    body = result.body
    if (
        template is None
        or event_id is None
        or len(body) != 2
        or next(iter(body)) != "status"  # the order JSONResponse would write them in
        or body["status"] != result.outcome
        or body.get("event") != event_id
        or not _PLAIN_ID.fullmatch(event_id)
    ):
        return JSONResponse(result.body, status_code=result.status)
    return _ReadyResponse(result.status, template % event_id.encode())


class _ReadyResponse(Response):
    """A response whose body and headers are already bytes (JSON)."""

    media_type = "application/json"

    def __init__(self, status_code: int, body: bytes) -> None:
        # Response.__init__ renders and builds the headers generically: skipped.
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), *_JSON_HEADERS]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} {self.body!r}>"
