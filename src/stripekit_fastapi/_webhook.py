"""The webhook route's own reading and writing: the one route under load.

The body is read straight from the ASGI ``receive`` (the common delivery is a
single message: no copy, no async generator), and the answer is a response
whose bytes are ready: the outcomes Stripe gets most often (processed,
unhandled, duplicate) are filled in from a template, byte for byte what
``JSONResponse`` renders (``tests/fastapi/test_webhook_response.py`` holds it to
that); every other answer goes through ``JSONResponse`` itself.
"""

from __future__ import annotations

import re

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from stripekit import WebhookResult

__all__ = ["read_body", "webhook_response"]

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
