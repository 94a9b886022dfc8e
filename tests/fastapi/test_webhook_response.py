"""The webhook route's own reading (raw ASGI messages) and its ready-made answers."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

from stripekit import WebhookResult
from stripekit_fastapi._webhook import read_body, webhook_response

IDS = [
    "evt_1NG8Du2eZvKYlo2CUI79vXWy",
    'evt_"quoted"',
    "evt_back\\slash",
    "evt_ünïcode",
    "evt_\u2028line",
    "evt_<script>",
    "x" * 255,
]


@pytest.mark.parametrize("event_id", IDS)
@pytest.mark.parametrize(
    ("status", "outcome"), [(200, "processed"), (200, "unhandled"), (200, "duplicate")]
)
def test_ready_answers_are_byte_for_byte_what_jsonresponse_writes(
    status: int, outcome: str, event_id: str
) -> None:
    result = WebhookResult(status, {"status": outcome, "event": event_id}, outcome, event_id)
    expected = JSONResponse(result.body, status_code=status)
    answer = webhook_response(result)
    assert (answer.status_code, answer.body) == (expected.status_code, expected.body)
    assert answer.raw_headers == expected.raw_headers
    assert answer.background is None


@pytest.mark.parametrize(
    "result",
    [
        WebhookResult(409, {"status": "in_flight", "event": "evt_1"}, "in_flight", "evt_1"),
        WebhookResult(500, {"status": "failed", "event": "evt_1"}, "failed", "evt_1"),
        WebhookResult(400, {"error": "no Stripe-Signature header"}, "rejected"),
        WebhookResult(200, {"status": "ignored", "event": "evt_1"}, "ignored", "evt_1"),
        WebhookResult(503, {"error": "event store unavailable", "event": "e"}, "unavailable", "e"),
        # Bodies that do not fit the template, though the outcome does.
        WebhookResult(200, {"event": "evt_1", "status": "processed"}, "processed", "evt_1"),
        WebhookResult(200, {"status": "processed", "event": "evt_2"}, "processed", "evt_1"),
        WebhookResult(200, {"status": "processed", "event": "e", "n": 1}, "processed", "e"),
        WebhookResult(200, {"status": "processed"}, "processed", None),
    ],
)
def test_other_answers_are_jsonresponses(result: WebhookResult) -> None:
    expected = JSONResponse(result.body, status_code=result.status)
    answer = webhook_response(result)
    assert (answer.status_code, answer.body) == (expected.status_code, expected.body)
    assert answer.raw_headers == expected.raw_headers


def messages(*items: dict[str, Any]) -> Any:
    queue = list(items)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


async def test_a_body_in_one_message_is_taken_as_is() -> None:
    body = b'{"id": "evt_1"}'
    got = await read_body(messages({"type": "http.request", "body": body}), 100)
    assert got is body


async def test_a_body_in_several_messages_is_joined() -> None:
    receive = messages(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    )
    assert await read_body(receive, 100) == b"abcd"


async def test_reading_stops_past_the_limit() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 10, "more_body": True} for _ in range(5)]
    # A sixth message would fail the test: the reader must stop before asking for it.
    got = await read_body(messages(*chunks), 25)
    assert got == b"x" * 30  # over the limit: the core answers 413


@pytest.mark.parametrize("at", [0, 1])
async def test_a_client_gone_mid_body_raises_client_disconnect(at: int) -> None:
    first = {"type": "http.request", "body": b"ab", "more_body": True}
    items = [first, {"type": "http.disconnect"}][at:]
    with pytest.raises(ClientDisconnect):
        await read_body(messages(*items), 100)
