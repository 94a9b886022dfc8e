"""Signing payloads the way Stripe does, to test webhook handlers without Stripe."""

from __future__ import annotations

import time

from stripekit.webhooks._signature import compute_signature

__all__ = ["sign_payload", "signed_headers"]


def sign_payload(
    payload: bytes | str,
    secret: str,
    *,
    timestamp: int | None = None,
    scheme: str = "v1",
) -> str:
    """A ``Stripe-Signature`` header value for ``payload``, signed with ``secret`` like Stripe.

    Args:
        payload: the body to sign; a ``str`` is signed as its UTF-8 bytes.
        secret: the endpoint's signing secret (``whsec_...``).
        timestamp: the signing time (Unix seconds); ``None`` means now. Pass an old one
            to test that expired deliveries are refused.
        scheme: the signature scheme; only ``v1`` is verified, others test that.

    Example:
        >>> sign_payload(b'{"id": "evt_1"}', "whsec_test", timestamp=1_700_000_000)[:15]
        't=1700000000,v1'
    """
    if not scheme or "," in scheme or "=" in scheme:
        raise ValueError(f"scheme must be a name such as 'v1', got {scheme!r}")
    if timestamp is None:
        timestamp = int(time.time())
    body = payload.encode() if isinstance(payload, str) else payload
    return f"t={timestamp},{scheme}={compute_signature(secret.encode(), timestamp, body)}"


def signed_headers(
    payload: bytes | str, secret: str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of a delivery of ``payload``: ``Stripe-Signature`` and ``Content-Type``.

    Example:
        >>> headers = signed_headers(b"{}", "whsec_test")
        >>> sorted(headers)
        ['Content-Type', 'Stripe-Signature']
    """
    return {
        "Stripe-Signature": sign_payload(payload, secret, timestamp=timestamp),
        "Content-Type": "application/json",
    }
