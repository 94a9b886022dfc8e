"""Verification of the ``Stripe-Signature`` header of a webhook delivery.

It accepts exactly what ``stripe.WebhookSignature.verify_header`` accepts with
at least one of the secrets (a differential test holds it to that), except that
a tolerance of 0 or less is refused: a signature never expires by accident.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Sequence

from stripekit._errors import ConfigurationError, SignatureError

__all__ = ["verify_signature"]

DEFAULT_TOLERANCE = 300
# stripe's own notion of a blank secret (``str.strip`` with these, not ``str.isspace``)
_BLANK = " \t\r\n\f\v"


def compute_signature(key: bytes, timestamp: int, payload: bytes) -> str:
    """The hex HMAC-SHA256 Stripe puts in ``v1=``: over ``b"<timestamp>." + payload``."""
    # Over the raw bytes: stripe decodes then re-encodes the body, which gives back the
    # same bytes for valid UTF-8 (the only kind accepted), so we skip the round trip.
    return hmac.digest(key, b"%d." % timestamp + payload, "sha256").hex()


def _matches(keys: list[bytes], timestamp: int, payload: bytes, signatures: list[str]) -> bool:
    # plain loops: any() over a generator costs more than the comparisons themselves
    for key in keys:
        expected = compute_signature(key, timestamp, payload)
        for signature in signatures:
            if hmac.compare_digest(expected, signature):
                return True
    return False


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check that Stripe signed ``payload`` with one of ``secrets``; return the signed timestamp.

    Args:
        payload: the raw request body, exactly as received (never re-serialised JSON).
        header: the ``Stripe-Signature`` header value.
        secrets: the endpoint's signing secrets (``whsec_...``); several during a rotation.
        tolerance: how old, in seconds, a signature may be; ``None`` means 300.
        now: the current Unix time; ``None`` reads the clock.

    Raises:
        SignatureError: the header is missing, malformed, expired or matches no secret.
        ConfigurationError: ``tolerance`` is not a positive number of seconds.

    Example:
        >>> from stripekit.testing import sign_payload
        >>> body = b'{"id": "evt_1"}'
        >>> header = sign_payload(body, "whsec_test", timestamp=1_700_000_000)
        >>> verify_signature(body, header, ["whsec_test"], now=1_700_000_060)
        1700000000
    """
    if tolerance is None:
        tolerance = DEFAULT_TOLERANCE
    # `not 0 < x` also catches NaN; infinity would be a "never expires" in disguise.
    if not 0 < tolerance < math.inf:
        raise ConfigurationError(
            f"tolerance must be a positive number of seconds, got {tolerance!r}; "
            "there is no 'never expires' (the default is 300)"
        )
    if not header:
        raise SignatureError(
            "no Stripe-Signature header: pass the raw `Stripe-Signature` header of the request"
        )
    if isinstance(secrets, str):
        raise TypeError("secrets must be a list of secrets, not one str: pass [secret]")
    keys = []
    for secret in secrets:
        if secret.strip(_BLANK):
            try:
                keys.append(secret.encode())
            except UnicodeEncodeError:  # lone surrogates: stripe fails on these too
                continue
    if not keys:
        raise SignatureError(
            "no webhook signing secret is configured: set STRIPE_WEBHOOK_SECRET to the "
            "endpoint's signing secret (whsec_..., shown in the Stripe dashboard or by "
            "`stripe listen`)"
        )
    # isascii is nearly free and true for Stripe's bodies; only others pay for a decode.
    if not payload.isascii():
        try:
            payload.decode()
        except UnicodeDecodeError:
            raise SignatureError(
                "the body is not valid UTF-8, so Stripe did not send it as is: pass the "
                "raw request body bytes, exactly as received"
            ) from None

    # Mirrors stripe's parsing on purpose, quirks included: items split on ",", the value
    # is what lies between the first and a second "=", keys are compared unstripped, the
    # first `t` wins, and a `t` or `v1` item without "=" makes the whole header malformed.
    timestamps: list[str] = []
    signatures: list[str] = []
    try:
        for item in header.split(","):
            parts = item.split("=", 2)
            if parts[0] == "v1":
                signatures.append(parts[1])
            elif parts[0] == "t":
                timestamps.append(parts[1])
    except IndexError:
        raise SignatureError(
            "malformed Stripe-Signature header: a 't' or 'v1' item has no '=value'; "
            "pass the header exactly as received"
        ) from None
    if not timestamps:
        raise SignatureError(
            "malformed Stripe-Signature header: no 't=<timestamp>' item; "
            "pass the header exactly as received"
        )
    try:
        # int(), like stripe: it allows spaces, "+", "_" and non-ASCII digits.
        timestamp = int(timestamps[0])
    except ValueError:
        raise SignatureError(
            f"malformed Stripe-Signature header: the timestamp {timestamps[0][:40]!r} "
            "is not an integer; pass the header exactly as received"
        ) from None
    if not signatures:
        raise SignatureError(
            "the Stripe-Signature header has no v1 signature: pass the header exactly as "
            "received (the other schemes are not accepted)"
        )
    if not header.isascii():
        # compare_digest raises on non-ASCII str and stripe's any() stops at the first
        # match, so stripe only fails on a non-ASCII signature before a matching one.
        for index, signature in enumerate(signatures):
            if not signature.isascii():
                del signatures[index:]
                break
    if not _matches(keys, timestamp, payload, signatures):
        raise SignatureError(
            f"no v1 signature matches the body with any of the {len(keys)} secret(s): check "
            "that the secret is this endpoint's signing secret (each endpoint, and "
            "`stripe listen`, has its own), and that you pass the raw request body bytes, "
            "not parsed and re-serialised JSON"
        )

    if now is None:
        now = time.time()
    if timestamp < now - tolerance:
        raise SignatureError(
            # int arithmetic: a float age overflows on a (signed) absurd timestamp
            f"the signature is {math.ceil(now) - timestamp} s old, over the tolerance of "
            f"{tolerance} s: check the server clock (NTP), or this is a replayed delivery"
        )
    return timestamp
