"""Who may see what a Checkout Session bought: its buyer, and nobody else.

A success URL (``?session_id=cs_...``) travels in browser history, logs and
shared links, so holding it proves nothing. The success page shows personal
details (email, items, total) only to:

- the app's signed-in buyer whose reference is the session's
  ``client_reference_id`` (checkout sends the Buyer's reference there);
- for an anonymous checkout, the browser that started it: the checkout route
  sets a short-lived, signed cookie naming the sessions it created.

Everyone else learns whether the payment went through, and nothing more.

The cookie is signed with itsdangerous (the signer Flask and Starlette's
sessions use) under a key derived from the Stripe secret key, so no new secret
is needed; it lives as long as a Checkout Session can stay open (24 hours).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "CHECKOUT_COOKIE",
    "CHECKOUT_COOKIE_MAX_AGE",
    "may_see_details",
    "remember_checkout",
    "started_here",
]

CHECKOUT_COOKIE = "stripekit_checkout"
"""The cookie naming the anonymous checkouts this browser started."""

CHECKOUT_COOKIE_MAX_AGE = 24 * 3600
"""Seconds the cookie (and each session it names) is honoured: a session's longest life."""

_KEPT = 5
"""How many recent sessions one cookie names (a buyer may start several checkouts)."""

_SALT = "stripekit.checkout-cookie.v1"


def remember_checkout(cookie: str | None, session_id: str, secret: str) -> str:
    """The cookie's new value: ``session_id`` added to the sessions it already names.

    Args:
        cookie: the request's current cookie value, if any (a forged one is ignored).
        session_id: the Checkout Session just created.
        secret: the Stripe secret key (the signing key is derived from it).
    """
    ids = [known for known in _read(cookie, secret) if known != session_id]
    ids.append(session_id)
    return _serializer(secret).dumps(ids[-_KEPT:])


def started_here(cookie: str | None, session_id: str, secret: str) -> bool:
    """Whether this browser's cookie says it started ``session_id`` (within the cookie's life)."""
    return session_id in _read(cookie, secret)


def may_see_details(
    client_reference_id: str | None,
    session_id: str,
    *,
    viewer: str | None,
    cookie: str | None,
    secret: str,
) -> bool:
    """Whether this viewer may see the session's personal details.

    A session made for a user (``client_reference_id``) is shown to that user
    only (``viewer``: the signed-in user's reference); an anonymous one to the
    browser that started it.
    """
    if client_reference_id:
        return viewer is not None and viewer == client_reference_id
    return started_here(cookie, session_id, secret)


def _read(cookie: str | None, secret: str) -> list[str]:
    if not cookie:
        return []
    from itsdangerous import BadData

    try:
        ids = _serializer(secret).loads(cookie, max_age=CHECKOUT_COOKIE_MAX_AGE)
    except BadData:
        return []  # forged, altered or expired: it names nothing
    if not isinstance(ids, list):
        return []
    return [item for item in ids if isinstance(item, str)]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt=_SALT)


if TYPE_CHECKING:
    from itsdangerous import URLSafeTimedSerializer
