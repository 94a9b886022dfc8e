"""The success page shows what was bought to its buyer only; anyone else sees it is paid."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi_shop import asgi_client

from stripekit import StripeKit
from stripekit.shop._receipts import CHECKOUT_COOKIE

ADA = {"x-user": "ada"}
BOB = {"x-user": "bob"}


def pay(session: dict[str, Any], email: str = "ada@example.com") -> None:
    answer = httpx.post(session["url"], data={"card_number": "4242424242424242", "email": email})
    assert answer.status_code in (200, 303)


def details_shown(page: str) -> bool:
    return "ada@example.com" in page and "€38.00" in page and "The Book" in page


async def test_a_signed_in_buyers_receipt_is_theirs_alone(
    client: httpx.AsyncClient, kit: StripeKit, make_app: Any
) -> None:
    session = (
        await client.post("/stripe/checkout", json={"product": "book", "quantity": 2}, headers=ADA)
    ).json()
    pay(session)
    url = f"/stripe/success?session_id={session['id']}"
    own = (await client.get(url, headers=ADA)).text
    assert details_shown(own) and 'id="private"' not in own
    other_user = (await client.get(url, headers=BOB)).text
    assert 'id="status">paid' in other_user
    assert not details_shown(other_user) and "@example.com" not in other_user
    assert 'id="private"' in other_user
    async with asgi_client(make_app(kit)) as stranger:  # no user, no cookie
        page = (await stranger.get(url)).text
    assert 'id="status">paid' in page and not details_shown(page)


async def test_an_anonymous_receipt_is_for_the_browser_that_paid(
    client: httpx.AsyncClient, kit: StripeKit, make_app: Any
) -> None:
    answer = await client.post("/stripe/checkout", data={"product": "book", "quantity": "2"})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{CHECKOUT_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=86400" in cookie
    session_id = answer.headers["location"].rsplit("/", 1)[-1]
    pay({"url": answer.headers["location"]})
    url = f"/stripe/success?session_id={session_id}"
    assert details_shown((await client.get(url)).text)  # the browser that started it
    async with asgi_client(make_app(kit)) as stranger:
        page = (await stranger.get(url)).text
        assert 'id="status">paid' in page and not details_shown(page)
        # A signed-in user who is not the buyer sees no more than a stranger.
        assert not details_shown((await stranger.get(url, headers=BOB)).text)
        # A forged or altered cookie names nothing.
        stolen = client.cookies[CHECKOUT_COOKIE]
        for forged in ("cs_test_x", stolen[:-2] + "xx", stolen + "a"):
            stranger.cookies.set(CHECKOUT_COOKIE, forged, domain="shop.test")
            assert not details_shown((await stranger.get(url)).text)
        # The stranger's own checkout adds to *their* cookie, never to the first browser's.
        await stranger.post("/stripe/checkout", data={"product": "book"})
        assert not details_shown((await stranger.get(url)).text)
    assert details_shown((await client.get(url)).text)


async def test_the_cookie_remembers_a_browsers_recent_checkouts(client: httpx.AsyncClient) -> None:
    first = (await client.post("/stripe/checkout", json={"product": "book", "quantity": 2})).json()
    second = (await client.post("/stripe/checkout", json={"product": "book"})).json()
    pay(first)
    page = (await client.get(f"/stripe/success?session_id={first['id']}")).text
    assert details_shown(page)  # still named after a second checkout
    page = (await client.get(f"/stripe/success?session_id={second['id']}")).text
    assert 'id="private"' not in page and "Payment pending" in page


async def test_a_signed_in_checkout_sets_no_cookie(client: httpx.AsyncClient) -> None:
    answer = await client.post("/stripe/checkout", json={"product": "book"}, headers=ADA)
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
