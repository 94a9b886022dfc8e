"""Signed payloads no store could record are a 400 on every store, never a 5xx.

A 5xx tells Stripe to deliver again, for days: right for a store that is down,
wrong for a payload that will never be accepted. A lone surrogate or a NUL in
an id, an id longer than the stores' column, a `created` that is not a
timestamp, a body nested past the parser's limit: each is refused the same way
on the memory, SQLite and PostgreSQL stores, and nothing is recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stripekit import EventStore, PayloadError, WebhookProcessor, WebhookRegistry, parse_event
from stripekit.testing import sign_payload

SECRET = "whsec_hostile"


def body_with(**fields: Any) -> bytes:
    event: dict[str, Any] = {
        "id": "evt_ok",
        "object": "event",
        "type": "invoice.paid",
        "created": 1_700_000_000,
        "livemode": False,
        "data": {"object": {"id": "in_1", "object": "invoice"}},
    }
    for name, value in fields.items():
        if value is _MISSING:
            event.pop(name)
        else:
            event[name] = value
    # allow_nan: json.dumps would otherwise refuse the NaN case itself.
    return json.dumps(event, allow_nan=True).encode()


_MISSING = object()


def deeply_nested(depth: int) -> bytes:
    inner = '{"id": "in_1", "object": "invoice", "x": ' + "[" * depth + "]" * depth + "}"
    return (
        b'{"id": "evt_deep", "object": "event", "type": "invoice.paid", "created": 1700000000, '
        b'"livemode": false, "data": {"object": ' + inner.encode() + b"}}"
    )


HOSTILE: dict[str, tuple[bytes, str]] = {
    "nested past the parser's limit": (deeply_nested(100_000), "nests too deeply"),
    "a lone surrogate in the id": (
        b'{"id": "evt_\\ud800", "object": "event", "type": "invoice.paid", "created": 1700000000,'
        b' "data": {"object": {"id": "in_1"}}}',
        "not valid Unicode",
    ),
    "a lone surrogate in the type": (
        b'{"id": "evt_1", "object": "event", "type": "invoice.\\udfff", "created": 1700000000,'
        b' "data": {"object": {"id": "in_1"}}}',
        "not valid Unicode",
    ),
    "a NUL in the id": (body_with(id="evt_\x00x"), "NUL"),
    "a NUL in the account": (body_with(account="acct_\x001"), "NUL"),
    "an id over 255 characters": (body_with(id="evt_" + "x" * 252), "over 255"),
    "a type over 255 characters": (body_with(type="invoice." + "x" * 250), "over 255"),
    "an account over 255 characters": (body_with(account="acct_" + "1" * 251), "over 255"),
    "created as a string": (body_with(created="1700000000"), "not a timestamp"),
    "created NaN": (body_with(created=float("nan")), "not a timestamp"),
    "created 1e300": (body_with(created=1e300), "not a timestamp"),
    "created 10**18": (body_with(created=10**18), "not a timestamp Stripe could send"),
    "created negative": (body_with(created=-1), "not a timestamp Stripe could send"),
    "created true": (body_with(created=True), "not a timestamp"),
    "created missing": (body_with(created=_MISSING), "not a timestamp"),
    "livemode a string": (body_with(livemode="false"), "livemode"),
}


@pytest.mark.parametrize(("raw", "message"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_parse_event_refuses_what_no_store_can_keep(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message) as caught:
        parse_event(raw)
    assert str(caught.value).isascii()  # safe in any response, log or terminal


def test_the_longest_valid_names_and_the_extreme_times_are_kept(make_store: Any) -> None:
    store = make_store()
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=WebhookRegistry())
    cases = [
        body_with(id="evt_" + "x" * 251, account="acct_" + "1" * 250),
        body_with(id="evt_epoch", created=0),
        body_with(id="evt_y9999", created=253_402_300_799),
        body_with(id="evt_unicode_ok", type="invoice.paid", account="acct_é"),
    ]
    for raw in cases:
        result = processor.process(raw, {"Stripe-Signature": sign_payload(raw, SECRET)})
        assert result.status == 200, result.body
        stored = store.get(json.loads(raw)["id"])
        assert stored is not None and stored.payload == raw


@pytest.mark.parametrize(("raw", "message"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_every_store_answers_400_and_records_nothing(
    make_store: Any, raw: bytes, message: str
) -> None:
    store = make_store()
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=WebhookRegistry())
    result = processor.process(raw, {"Stripe-Signature": sign_payload(raw, SECRET)})
    assert result.status == 400
    assert message in result.body["error"]
    # What a web framework does with the answer: it must encode.
    json.dumps(result.body, ensure_ascii=False).encode("utf-8")
    assert _recorded(store) == []


@pytest.mark.parametrize(("raw", "message"), list(HOSTILE.values()), ids=list(HOSTILE))
async def test_the_async_path_answers_the_same(make_store: Any, raw: bytes, message: str) -> None:
    store = make_store()
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=WebhookRegistry())
    result = await processor.aprocess(raw, {"Stripe-Signature": sign_payload(raw, SECRET)})
    assert (result.status, message in result.body["error"]) == (400, True)
    assert _recorded(store) == []


def _recorded(store: EventStore) -> list[str]:
    return [row.id for row in store.list()]
