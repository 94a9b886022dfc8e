"""Event bodies parse to exactly what ``json.loads`` gives, msgspec or not."""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stripekit.webhooks import _json
from stripekit.webhooks._json import loads

msgspec = pytest.importorskip("msgspec")  # the test extra installs it

PROPERTY = settings(max_examples=3000, deadline=None, database=None)

EDGES = [
    # json reads these, msgspec refuses them: json must decide.
    b"NaN",
    b'{"a": [NaN, Infinity, -Infinity]}',
    b"1e400",
    b"-1e400",
    b"1.7976931348623159e308",
    b"1" + b"0" * 400,
    b'"\\ud800"',
    b'"\\udc00\\ud800"',
    b'"\xed\xa0\x80"',  # a surrogate encoded in the bytes: json decodes with surrogatepass
    b"\xef\xbb\xbf{}",
    "{}".encode("utf-16"),
    '{"a": 1}'.encode("utf-32-le"),
    # Both read these, alike.
    b"123456789012345678901234567890",
    b"-9223372036854775809",
    b"18446744073709551616",
    b'{"a": 1, "b": 2, "a": 3}',
    b'"\\ud83d\\ude00"',
    b'"\\u0000"',
    '"\u2028"'.encode(),
    b"-0",
    b"-0.0",
    b"1e-400",
    b"4.9e-324",
    b"2.4e-324",
    b"0.30000000000000004",
    b"1.00000000000000011102230246251565404236316680908203125",
    b"[" * 500 + b"]" * 500,
    b' \t\r\n{"a" : [ 1 , 2 ] }\n',
    # Both refuse these.
    b"",
    b"[1,]",
    b"01",
    b"1.",
    b".5",
    b"+1",
    b"'a'",
    b'"\xc3"',
    b"\x0c[]",
    b'"\x1f"',
    b'"\\x41"',
    b"9" * 5000,  # over Python's 4,300-digit limit for int()
    b"[" * 5000 + b"]" * 5000,  # past the recursion limit on 3.11 and 3.12, parsed on 3.13
    b"[" * 100_000 + b"]" * 100_000,  # past it on 3.11 to 3.13: both raise RecursionError
    b'{"a": 1} x',
]


def outcome(parse: Any, raw: bytes) -> tuple[str, str]:
    try:
        value = parse(raw)
    except RecursionError:
        return ("RecursionError", "")
    except (ValueError, UnicodeDecodeError) as exc:
        return (type(exc).__name__, "")
    # repr tells 1 from 1.0 and True, -0.0 from 0.0, and keeps the keys' order.
    return ("ok", repr(value))


@pytest.mark.parametrize("raw", EDGES, ids=lambda raw: repr(raw[:30]))
def test_edge_cases_parse_as_json_parses_them(raw: bytes) -> None:
    assert outcome(loads, raw) == outcome(json.loads, raw)


def test_msgspec_is_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    decoder = msgspec.json.Decoder().decode

    def spy(raw: bytes) -> Any:
        calls.append(raw)
        return decoder(raw)

    monkeypatch.setattr(_json, "_decode", spy)
    monkeypatch.setattr(_json, "_looked", True)
    assert loads(b'{"id": "evt_1"}') == {"id": "evt_1"}
    assert math.isnan(loads(b"NaN"))  # refused by msgspec, read by json
    assert calls == [b'{"id": "evt_1"}', b"NaN"]


def test_without_msgspec_json_parses_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "_decode", None)
    monkeypatch.setattr(_json, "_looked", True)
    for raw in EDGES:
        assert outcome(loads, raw) == outcome(json.loads, raw)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@PROPERTY
@given(json_values, st.booleans())
def test_any_json_document_parses_alike(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert outcome(loads, raw) == outcome(json.loads, raw)


@PROPERTY
@given(st.integers(0, 2**64 - 1), st.sampled_from(["%r", "%.17g", "%.25e", "%.3e"]))
def test_every_double_parses_to_the_same_bits(bits: int, form: str) -> None:
    number = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
    if not math.isfinite(number):
        return
    raw = (form % number).encode()
    assert outcome(loads, raw) == outcome(json.loads, raw)


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=1, max_size=40), st.integers(-400, 400))
def test_long_decimals_and_exponents_parse_alike(digits: str, exponent: int) -> None:
    for raw in (digits, f"-{digits}", f"0.{digits}e{exponent}", f"1.{digits}E{exponent}"):
        assert outcome(loads, raw.encode()) == outcome(json.loads, raw.encode())


@PROPERTY
@given(st.binary(max_size=40))
def test_arbitrary_bytes_parse_or_fail_alike(raw: bytes) -> None:
    assert outcome(loads, raw) == outcome(json.loads, raw)
