"""The cross-site rule: Sec-Fetch-Site, then Origin, then Referer; none of them: not a browser."""

from __future__ import annotations

import pytest

from stripekit import ConfigurationError, Settings
from stripekit.shop._origin import cross_site_reason

HOST = "shop.example"
TRUSTED = frozenset({"https://shop.example", "https://www.shop.example"})


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"sec-fetch-site": "same-origin"}, False),
        ({"sec-fetch-site": "none"}, False),  # typed in the address bar, a bookmark
        ({"sec-fetch-site": "cross-site"}, True),
        ({"sec-fetch-site": "same-site"}, True),  # a sibling subdomain is another origin
        ({"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, True),
        ({"sec-fetch-site": "cross-site", "origin": "https://www.shop.example"}, False),
        ({"sec-fetch-site": "same-origin", "origin": "https://evil.example"}, False),
        ({"origin": "https://shop.example"}, False),
        ({"origin": "http://shop.example"}, False),  # behind TLS termination: the host matches
        ({"origin": "https://evil.example"}, True),
        ({"origin": "null"}, True),  # a sandboxed frame or a data: page
        ({"origin": "https://www.shop.example"}, False),
        ({"referer": "https://shop.example/pricing"}, False),
        ({"referer": "https://evil.example/page"}, True),
        ({"referer": "https://www.shop.example/landing"}, False),
        ({"referer": "not a url"}, True),
        ({}, False),  # no browser sends a POST without any of them: curl, a server
    ],
)
def test_the_rule(headers: dict[str, str], refused: bool) -> None:
    reason = cross_site_reason("POST", headers, host=HOST, trusted=TRUSTED)
    assert (reason is not None) is refused


def test_safe_methods_always_pass() -> None:
    for method in ("GET", "HEAD", "OPTIONS", "get"):
        evil = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
        assert cross_site_reason(method, evil, host=HOST, trusted=()) is None


def test_no_host_header_means_only_trusted_origins_pass() -> None:
    assert cross_site_reason("POST", {"origin": "https://shop.example"}, host=None, trusted=())
    assert (
        cross_site_reason("POST", {"origin": "https://shop.example"}, host=None, trusted=TRUSTED)
        is None
    )


def test_trusted_origins_come_from_settings() -> None:
    settings = Settings(
        base_url="https://shop.example/app",
        trusted_origins="https://www.shop.example, HTTP://localhost:3000/",
    )
    assert settings.own_origins == {
        "https://shop.example",
        "https://www.shop.example",
        "http://localhost:3000",
    }
    for bad in ("shop.example", "https://shop.example/path", "ftp://x.example"):
        with pytest.raises(
            ConfigurationError, match=r"STRIPEKIT_TRUSTED_ORIGINS: .* not an origin"
        ):
            Settings(trusted_origins=bad)
