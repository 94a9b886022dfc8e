"""Which POSTs a browser sent from another site, by the rule of Go's CrossOriginProtection.

A page elsewhere can make a visitor's browser post a form to the shop (start a
checkout, open the billing portal) with the visitor's cookies. Browsers say
where a request comes from, so a request is refused when::

    Sec-Fetch-Site present  → same-origin or none pass; anything else is refused,
                              unless its Origin is trusted
    else Origin present     → passes if trusted or on the request's own host
    else Referer present    → passes if trusted or on the request's own host
    else                    → not sent by a browser: passes

Safe methods (GET, HEAD, OPTIONS) always pass: they must not change anything.
Trusted origins are the app's own public URL (``STRIPEKIT_BASE_URL``) and
``STRIPEKIT_TRUSTED_ORIGINS`` (apps behind a proxy that rewrites the Host, or
served on several domains).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from stripekit._urls import origin_of

__all__ = ["cross_site_reason"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cross_site_reason(
    method: str,
    headers: Mapping[str, str],
    *,
    host: str | None,
    trusted: Collection[str],
) -> str | None:
    """Why this request must be refused as cross-site, or None if it may go through.

    Args:
        method: the HTTP method.
        headers: the request headers (a case-insensitive mapping, or lower-case keys).
        host: the request's Host header.
        trusted: origins (``https://shop.example``) whose pages may post here.

    Example:
        >>> cross_site_reason("POST", {"sec-fetch-site": "cross-site"}, host="a.test", trusted=())
        'Sec-Fetch-Site is cross-site'
        >>> cross_site_reason("POST", {}, host="a.test", trusted=()) is None  # not a browser
        True
    """
    if method.upper() in SAFE_METHODS:
        return None
    site = headers.get("sec-fetch-site")
    origin = headers.get("origin")
    if site is not None:
        if site.strip().lower() in ("same-origin", "none"):
            return None
        if origin is not None and _trusted(origin, trusted):
            return None
        return f"Sec-Fetch-Site is {site[:40]}"
    if origin is not None:
        if _trusted(origin, trusted) or _same_host(origin, host):
            return None
        return f"Origin {origin[:80]} is another site"
    referer = headers.get("referer")
    if referer is not None:
        if _trusted(referer, trusted) or _same_host(referer, host):
            return None
        return "Referer is another site"
    return None


def _trusted(url: str, trusted: Collection[str]) -> bool:
    origin = origin_of(url)
    return origin is not None and origin in trusted


def _same_host(url: str, host: str | None) -> bool:
    if not host:
        return False
    try:
        netloc = urlsplit(url.strip()).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.strip().lower()
