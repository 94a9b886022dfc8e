"""verify_signature accepts exactly what stripe.WebhookSignature.verify_header accepts.

Each property runs a hypothesis search from a plain test function, which then checks
that the search produced plenty of accepted deliveries as well as refused ones: a
differential test that only ever sees refusals proves nothing.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from unittest import mock

import stripe
import stripe._webhook
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from stripekit._errors import SignatureError
from stripekit.webhooks._signature import verify_signature

SECRET = "whsec_test_secret_0123456789"
OTHER = "whsec_other_secret_9876543210"
HEX = "0123456789abcdef"
FULLWIDTH = {ord("0") + i: chr(0xFF10 + i) for i in range(10)}  # int() takes these
ARABIC = {ord("0") + i: chr(0x0660 + i) for i in range(10)}

# no example database: a failure prints its example (hypothesis still caches in .hypothesis/)
PROPERTY = settings(max_examples=2000, deadline=None, database=None)

counts: Counter[str] = Counter()


def stripe_accepts(payload: bytes, header: str | None, secret: str, tolerance: int, now: float):
    clock = SimpleNamespace(time=lambda: now)
    with mock.patch.object(stripe._webhook, "time", clock):
        try:
            return stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
        except Exception:  # stripe refuses with several exception types
            return False


def kit_accepts(payload: bytes, header: str | None, secrets: list[str], tolerance: int, now: float):
    try:
        verify_signature(payload, header, secrets, tolerance=tolerance, now=now)
    except SignatureError:
        return False
    return True


def _sign(secret: str, timestamp: int, payload: bytes) -> str:
    key = secret.encode("utf-8", "surrogatepass")  # stripe refuses these secrets anyway
    return hmac.new(key, b"%d." % timestamp + payload, hashlib.sha256).hexdigest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
utf8_payloads = st.one_of(
    st.text(max_size=30).map(str.encode),
    st.tuples(json_values, st.booleans()).map(
        lambda v: json.dumps(v[0], ensure_ascii=v[1]).encode()
    ),
    st.sampled_from([b"", b"{}", b'{"a": "\xc3\xa9"}', b"\x00"]),
)
any_payloads = utf8_payloads | st.binary(max_size=40) | st.sampled_from([b"\xff", b"\xed\xa0\x80"])
secrets = st.one_of(
    st.just(SECRET),
    st.just(OTHER),
    st.text(min_size=1, max_size=12),
    # not blank for stripe, which strips only " \t\r\n\f\v"
    st.sampled_from(["\xa0", "\u2003", "\x1c", "whsec_é"]),
    # blank for stripe, or not encodable in UTF-8
    st.sampled_from(["", " ", "\t\r\n\f\v", "\ud800", "x\udfff"]),
)


@functools.cache
def _choice(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    # strategies are built once: building one per draw triples the run time
    return st.sampled_from(options)


def _pick(draw: st.DrawFn, broken: bool, good: tuple[Any, ...], bad: tuple[Any, ...]) -> Any:
    """One of ``bad`` if this part of the delivery is ``broken``, else one of ``good``."""
    return draw(_choice(bad if broken else good))


# The parts of a delivery that can be broken: one or two at a time, so that most refused
# deliveries are refused for one reason only, the cases that tell implementations apart.
PARTS = ("payload", "when", "t key", "t text", "signed at", "signature", "v1 key", "extras")
FAULTS = st.just(()) | st.lists(st.sampled_from(PARTS), min_size=1, max_size=2, unique=True)
TEXTS = {size: st.text(max_size=size) for size in (4, 6, 70, 90)}
FLAGS = st.booleans()
OFFSETS = st.integers(0, 10**7)
NEAR = st.integers(-3, 3)
ANYWHERE = st.integers(-(10**12), 10**12)
TOLERANCES = st.sampled_from([1, 2, 60, 300, 301, 3600]) | st.integers(1, 10**6)
SHUFFLES = st.randoms(use_true_random=False)
COUNTS = st.integers(0, 2)
AT = st.integers(0, 63)
GOOD_EXTRAS = ("v0", f"v2={'a' * 64}", "t=junk", "t=0", "", "=", "x=y=z", "v1=", "v1=" + "0" * 64)


def _timestamp_text(draw: st.DrawFn, broken: bool, timestamp: int) -> str:
    """How the timestamp is written: int() accepts more than ASCII digits."""
    text = str(timestamp)
    kind = _pick(
        draw,
        broken,
        ("plain",) * 6 + ("spaces", "plus", "_", "wide", "arabic", "zeros"),
        ("float", "hex", "empty", "junk", "huge"),
    )
    return {
        "plain": lambda: text,
        "spaces": lambda: f" \t{text}\n ",
        "plus": lambda: f"+{text}",
        "_": lambda: f"{text[:4]}_{text[4:]}" if len(text) > 5 else text,
        "wide": lambda: text.translate(FULLWIDTH),
        "arabic": lambda: text.translate(ARABIC),
        "zeros": lambda: f"000{text}",
        "float": lambda: f"{text}.0",
        "hex": lambda: hex(timestamp),
        "empty": lambda: "",
        "junk": lambda: draw(TEXTS[6]),
        "huge": lambda: "9" * 4301,  # over int()'s digit limit
    }[kind]()


def _corrupted(draw: st.DrawFn, signature: str) -> str:
    kind = draw(
        _choice(("flip", "cut", "upper", "extend", "é", "tail=", "space", "empty", "random"))
    )
    at = draw(AT)
    return {
        "flip": lambda: (
            signature[:at]
            + draw(_choice(tuple(HEX.replace(signature[at], ""))))
            + signature[at + 1 :]
        ),
        "cut": lambda: signature[:at],
        "upper": lambda: signature.upper(),
        "extend": lambda: signature + draw(_choice(tuple(HEX))),
        "é": lambda: signature[:at] + "é" + signature[at + 1 :],
        "tail=": lambda: f"{signature}={draw(TEXTS[4])}",  # stripe reads up to a 2nd "="
        "space": lambda: draw(_choice((" ", "\t"))) + signature,
        "empty": lambda: "",
        "random": lambda: draw(TEXTS[70]),
    }[kind]()


@st.composite
def deliveries(draw: st.DrawFn, signers: tuple[str, ...]) -> tuple[bytes, str | None, int, float]:
    """(payload, header, tolerance, now): about half of them honest, signed by ``signers``.

    An honest delivery only differs from Stripe's in ways stripe accepts (timestamp
    spelling, extra schemes and items, item order, wrong signatures next to a right one),
    but may sit just past the tolerance; the others have one or two parts broken, or a
    random header.
    """
    faults = draw(FAULTS)
    payload = draw(any_payloads if "payload" in faults else utf8_payloads)
    now = draw(_choice((1_700_000_000.0, 1_700_000_000.5, 1_700_000_000.999)))
    tolerance = draw(TOLERANCES)
    kind = _pick(draw, "when" in faults, ("inside", "inside", "boundary"), ("anywhere",))
    timestamp = {
        # inside the tolerance, or in the future
        "inside": lambda: int(now) - tolerance + 1 + draw(OFFSETS) % (tolerance + 600),
        "boundary": lambda: int(now) - tolerance + draw(NEAR),
        "anywhere": lambda: draw(ANYWHERE),
    }[kind]()
    if faults and draw(_choice(tuple(range(10)))) == 0:
        header = draw(_choice((None, "", "text")))
        return payload, draw(TEXTS[90]) if header == "text" else header, tolerance, now
    signed_at = timestamp + _pick(draw, "signed at" in faults, (0,), (1, -1, 10))

    def signature(extra: tuple[str, ...] = ()) -> str:
        return _sign(draw(_choice(signers + extra)), signed_at, payload)

    t_key = _pick(draw, "t key" in faults, ("t",), (" t", "t ", "T"))
    items = [f"{t_key}={_timestamp_text(draw, 't text' in faults, timestamp)}"]
    signatures = [] if "signature" in faults else [signature()]
    for _ in range(draw(COUNTS)):
        other = signature((OTHER,))
        signatures.append(_corrupted(draw, other) if draw(FLAGS) else other)
    for value in signatures:
        items.append(
            _pick(draw, "v1 key" in faults, ("v1",), (" v1", "v1 ", "V1", "v0")) + "=" + value
        )
    extras = [draw(_choice(GOOD_EXTRAS)) for _ in range(draw(COUNTS))]
    if "extras" in faults:
        extras.append(draw(_choice(("t", "v1", "v1=é", "t_first"))))
    items += [f"v0={signature()}" if extra == "v0" else extra for extra in extras]
    shuffle = draw(SHUFFLES).shuffle
    rest = items[1:]
    shuffle(rest)
    # stripe takes the first t, which must then be the delivery's own
    if "t_first" in rest:
        rest.remove("t_first")
        rest.insert(0, items[0])
        items = ["t=junk" if draw(FLAGS) else f"t={timestamp + 1}"]
    return payload, ",".join(items[:1] + rest), tolerance, now


def _record(accepted: bool) -> None:
    counts["accepted" if accepted else "refused"] += 1
    event("accepted" if accepted else "refused")


@PROPERTY
@given(data=st.data(), secret=secrets)
def _one_secret_agrees(data: st.DataObject, secret: str) -> None:
    payload, header, tolerance, now = data.draw(deliveries((secret,)))
    note(f"header={header!r}")
    expected = bool(stripe_accepts(payload, header, secret, tolerance, now))
    assert kit_accepts(payload, header, [secret], tolerance, now) == expected
    _record(expected)


@PROPERTY
@given(data=st.data(), keys=st.lists(secrets, min_size=1, max_size=4))
def _several_secrets_agree(data: st.DataObject, keys: list[str]) -> None:
    payload, header, tolerance, now = data.draw(deliveries(tuple(keys)))
    note(f"header={header!r}")
    expected = any(stripe_accepts(payload, header, key, tolerance, now) for key in keys)
    assert kit_accepts(payload, header, keys, tolerance, now) == expected
    _record(expected)


def _check_share(run: Callable[[], None]) -> None:
    counts.clear()
    run()
    total = counts["accepted"] + counts["refused"]
    assert total >= 2000
    print(f"{counts['accepted']}/{total} accepted")
    # Both outcomes must be common, or the comparison would be vacuous.
    assert counts["accepted"] >= 0.2 * total, counts
    assert counts["refused"] >= 0.2 * total, counts


def test_one_secret_agrees_with_stripe():
    _check_share(_one_secret_agrees)


def test_several_secrets_agree_with_any_stripe_secret():
    _check_share(_several_secrets_agree)
