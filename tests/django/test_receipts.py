"""The success page shows what was bought to its buyer only; anyone else sees it is paid."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from stripekit.shop._receipts import CHECKOUT_COOKIE

pytestmark = pytest.mark.django_db


def checkout(client: Client) -> dict[str, Any]:
    answer = client.post("/stripe/checkout", {"product": "book"}, content_type="application/json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def pay(session: dict[str, Any]) -> None:
    httpx.post(session["url"], data={"card_number": "4242424242424242", "email": "ada@a.test"})


def details_shown(page: str) -> bool:
    return "ada@a.test" in page and "€19.00" in page and "The Book" in page


def test_a_signed_in_buyers_receipt_is_theirs_alone(stripekit_settings: Any) -> None:
    ada = Client()
    ada.force_login(User.objects.create_user("ada", "ada@a.test"))
    session = checkout(ada)
    assert CHECKOUT_COOKIE not in ada.cookies  # a user's checkout needs no cookie
    pay(session)
    url = f"/stripe/success?session_id={session['id']}"
    assert details_shown(ada.get(url).content.decode())
    bob = Client()
    bob.force_login(User.objects.create_user("bob", "bob@b.test"))
    page = bob.get(url).content.decode()
    assert 'id="status">paid' in page and 'id="private"' in page and not details_shown(page)
    page = Client().get(url).content.decode()
    assert 'id="status">paid' in page and not details_shown(page)


def test_an_anonymous_receipt_is_for_the_browser_that_paid(stripekit_settings: Any) -> None:
    browser = Client()
    session = checkout(browser)
    morsel = browser.cookies[CHECKOUT_COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["max-age"] == 86400
    pay(session)
    url = f"/stripe/success?session_id={session['id']}"
    assert details_shown(browser.get(url).content.decode())
    stranger = Client()
    page = stranger.get(url).content.decode()
    assert 'id="status">paid' in page and not details_shown(page)
    stranger.cookies[CHECKOUT_COOKIE] = morsel.value[:-3] + "abc"  # altered
    assert not details_shown(stranger.get(url).content.decode())
    bob = Client()
    bob.force_login(User.objects.create_user("bob", "bob@b.test"))
    assert not details_shown(bob.get(url).content.decode())
