"""What a browser (or anyone posing as one) can send the shop routes, as hypothesis strategies.

Only what the client controls is fuzzed: method and path among the shop's routes,
query string, body, content type and the headers a browser sets. The buyer
(who the app says is signed in) is the app's own decision and stays fixed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

ROUTES = [
    # Checkout reads the most input: it gets half of the draws.
    *[("POST", "checkout")] * 7,
    ("GET", "success"),
    ("GET", "cancel"),
    ("GET", "pricing"),
    ("POST", "portal"),
    ("GET", "products"),
    ("GET", "config"),
    ("POST", "webhook"),
]

_text = st.text(max_size=30)
# What can travel in a header at all: visible latin-1, no control characters.
_header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, exclude_categories=("Cc",)), max_size=40
)
_huge_digits = st.integers(min_value=4_000, max_value=6_000).map(lambda n: "9" * n)
_quantity = st.one_of(
    st.integers(min_value=-1, max_value=4),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    _huge_digits,
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    _text,
    st.lists(st.integers(), max_size=3),
)
_product = st.one_of(
    st.sampled_from(["book", "pro"]), st.sampled_from(["", " book ", "BOOK"]), _text, st.integers()
)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_order = st.fixed_dictionaries(
    {},
    optional={
        "product": _product,
        "price": st.one_of(st.sampled_from(["monthly", "book_eur"]), _json_value),
        "quantity": _quantity,
        "extra": _json_value,
    },
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One request: ``{method, route, query, headers, body}`` (body as bytes)."""
    method, route = draw(st.sampled_from(ROUTES))
    query: dict[str, str] = draw(st.dictionaries(_text, _text, max_size=2))
    if route == "success" and draw(st.booleans()):
        query["session_id"] = draw(
            st.one_of(_text, st.text("abcXYZ019_", max_size=40).map(lambda s: "cs_test_" + s))
        )
    kind = draw(st.sampled_from(["json", "form", "multipart", "bytes", "none"]))
    order = draw(_order)
    headers: dict[str, str] = {}
    body = b""
    if kind == "json":
        headers["content-type"] = "application/json"
        body = json.dumps(draw(st.one_of(st.just(order), _json_value))).encode()
    elif kind == "form":
        headers["content-type"] = "application/x-www-form-urlencoded"
        body = urlencode({k: str(v) for k, v in order.items()}).encode()
    elif kind == "multipart":
        headers["content-type"] = draw(
            st.sampled_from(["multipart/form-data", "multipart/form-data; boundary=x"])
        )
        body = draw(st.binary(max_size=200))
    elif kind == "bytes":
        headers["content-type"] = draw(st.one_of(_header_text, st.just("application/json")))
        body = draw(st.binary(max_size=300))
    for name in ("accept", "origin", "sec-fetch-site", "referer", "cookie", "stripe-signature"):
        # One in four: with all of them at once, the cross-site check would refuse nearly
        # every POST before the route reads its body.
        if draw(st.integers(0, 3)) == 0:
            headers[name] = draw(
                st.one_of(
                    _header_text,
                    st.sampled_from(
                        [
                            "application/json",
                            "text/html",
                            "same-origin",
                            "cross-site",
                            "https://evil.example",
                            "stripekit_checkout=x.y.z",
                            "t=1,v1=abc",
                        ]
                    ),
                )
            )
    return {"method": method, "route": route, "query": query, "headers": headers, "body": body}


FORM = "application/x-www-form-urlencoded"

EXAMPLES = [
    {"method": "POST", "route": "checkout", "query": {}, "headers": {"content-type": FORM},
     "body": b"product=book&quantity=2"},
    {"method": "POST", "route": "checkout", "query": {},
     "headers": {"content-type": "application/json"}, "body": b'{"product": "pro"}'},
    {"method": "POST", "route": "checkout", "query": {}, "headers": {"content-type": FORM},
     "body": b"product=book&quantity=" + b"9" * 5000},
    {"method": "POST", "route": "checkout", "query": {},
     "headers": {"content-type": "application/json"},
     "body": b'{"product": "book", "quantity": "' + b"1" * 4400 + b'"}'},
    {"method": "GET", "route": "success", "query": {"session_id": "cs_test_" + "a" * 300},
     "headers": {}, "body": b""},
]  # fmt: skip
"""Inputs every run tries first: a real checkout of each kind, and the audit's finds."""
