"""10,000 mutated deliveries against a running server: no 5xx, nothing invalid dispatched.

Each request starts from a real event and is mutated: a field set to what
breaks parsers and databases (lone surrogates, NUL, 300-character ids, NaN,
1e300, 10^18, deep nesting), bytes flipped, cut or inserted; then signed
correctly (so it reaches the parser), signed for other bytes, or sent with a
broken header. The server must answer every one with something other than a
5xx, on keep-alive connections that never break, and dispatch only deliveries
that are signed and valid by the documented rules (an independent oracle here).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from webhook_server import SECRET, Server, count_rows, raw_request, send_all

from stripekit.testing import sign_payload

pytestmark = pytest.mark.reliability

REQUESTS = 10_000
SEED = 20261130  # the same inputs on every run: a failure reproduces

WEIRD: list[Any] = [
    None, "", "x" * 300, "evt_\ud800", "\udfff", "evt_\x00", 1e300, -1, 10**18, float("nan"),
    True, False, [], {}, "2024-01-01T00:00:00Z", 1.5, "1700000000", "é" * 10, 2**64,
]  # fmt: skip
FIELDS = ["id", "type", "created", "livemode", "account", "object", "data"]


def base_event(number: int, rng: random.Random) -> dict[str, Any]:
    return {
        "id": f"evt_fuzz_{number:05d}",
        "object": "event",
        "type": rng.choice(["invoice.paid", "customer.created"]),
        "created": 1_700_000_000 + number,
        "livemode": False,
        "data": {"object": {"id": f"in_{number}", "object": "invoice"}},
    }


def mutated_body(number: int, rng: random.Random) -> bytes:
    event = base_event(number, rng)
    kind = rng.random()
    if kind < 0.55:
        for _ in range(rng.randint(1, 2)):
            field = rng.choice(FIELDS)
            if rng.random() < 0.2:
                event.pop(field, None)
            else:
                event[field] = rng.choice(WEIRD)
        return json.dumps(event).encode()
    if kind < 0.65:
        depth = rng.choice([50, 900, 5_000, 100_000])
        event["data"]["object"]["deep"] = "@"
        return json.dumps(event).encode().replace(b'"@"', b"[" * depth + b"]" * depth)
    body = bytearray(json.dumps(event).encode())
    if kind < 0.75:
        return bytes(body)  # left valid: the control group
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(body))
        action = rng.random()
        if action < 0.4:
            body[position] = rng.randrange(256)
        elif action < 0.7:
            body[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            del body[position : position + rng.randint(1, 20)]
    return bytes(body)


def headers_for(body: bytes, rng: random.Random) -> tuple[dict[str, str], bool]:
    """Headers, and whether their signature is valid for ``body``."""
    kind = rng.random()
    if kind < 0.6:
        return {"Stripe-Signature": sign_payload(body, SECRET)}, True
    if kind < 0.75:
        return {"Stripe-Signature": sign_payload(body + b" ", SECRET)}, False
    broken = rng.choice(
        [
            "",
            "t=,v1=",
            "t=1,v1=abc",
            "v1=" + "0" * 64,
            "t=99999999999999999999,v1=" + "a" * 64,
            "t=1700000000," + ",".join(["v1=" + "b" * 64] * 200),
            "t=é,v1=ü",
            "garbage",
        ]
    )
    return ({"Stripe-Signature": broken} if rng.random() < 0.8 else {}), False


def valid_event_id(body: bytes) -> str | None:
    """The documented rules, written out again: the id of a valid event, else None."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or event.get("object") != "event":
        return None
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return None
    for field in ("id", "type", "account"):
        value = event.get(field)
        if value is None and field == "account":
            continue
        if not isinstance(value, str) or not value or len(value) > 255 or "\x00" in value:
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        return None
    if not 0 <= created <= 253_402_300_799:
        return None
    if "livemode" in event and not isinstance(event["livemode"], bool):
        return None
    return str(event["id"])


async def test_no_mutated_delivery_gets_a_5xx_or_is_dispatched(
    servers: list[Server], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    server = Server(database_url, tmp_path / "server.log").start()
    servers.append(server)
    rng = random.Random(SEED)
    requests: list[tuple[str, bytes]] = []
    valid_ids: set[str] = set()
    for number in range(REQUESTS):
        body = mutated_body(number, rng)
        headers, signed = headers_for(body, rng)
        event_id = valid_event_id(body)
        if signed and event_id is not None:
            valid_ids.add(event_id)
        requests.append((str(number), raw_request(body, headers)))
    answered = await send_all(server.port, requests, connections=4)
    statuses = Counter(status for _, status in answered)
    assert None not in statuses, "a connection broke"
    assert sum(statuses.values()) == REQUESTS
    assert max(s for s in statuses if s is not None) < 500, statuses
    dispatched = set(count_rows(database_url, "runs"))
    assert dispatched <= valid_ids, sorted(dispatched - valid_ids)[:5]
    # The mutations reached every kind of answer, and valid deliveries went through.
    assert {200, 400} <= set(statuses) and len(dispatched) > 1_000
