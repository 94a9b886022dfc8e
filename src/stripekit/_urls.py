"""URL helpers the settings and the shop share."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["origin_of"]


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; None if it has none.

    Example:
        >>> origin_of("https://Shop.example/stripe/checkout")
        'https://shop.example'
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()
