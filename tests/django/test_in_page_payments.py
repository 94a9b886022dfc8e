"""Django's in-page payment views: embedded Checkout and the Payment Element, priced by the
catalog whatever the request says, CSRF-protected, return pages for the buyer only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from stripekit_django.conf import get_kit

pytestmark = pytest.mark.django_db


def signed_in(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.create_user(name, f"{name}@a.test"))
    return client


def test_a_tampered_request_still_charges_the_catalogs_amount(stripekit_settings: Any) -> None:
    ada = signed_in("ada")
    body = {"product": "book", "quantity": 2, "amount": 1, "currency": "usd", "price_data": {}}
    answer = ada.post("/stripe/pay/intent", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    intent = get_kit().client.v1.payment_intents.retrieve(answer.json()["id"])
    assert (intent.amount, intent.currency) == (2 * 1900, "eur")
    assert intent.metadata["stripekit_user"] == str(User.objects.get(username="ada").pk)
    form = ada.post("/stripe/checkout/embedded", {"product": "book", "amount": "1"})
    assert form.status_code == 200, form.content
    session = get_kit().client.v1.checkout.sessions.retrieve(form.json()["id"])
    assert (session.amount_total, session.ui_mode) == (1900, "embedded_page")
    assert form.json()["client_secret"] == session.client_secret


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"product": "platinum"}, 404),
        ({"product": "book", "quantity": 0}, 422),
        ({"product": "book", "quantity": "9" * 400}, 422),
        ({"product": "pro", "price": "yearly"}, 404),
    ],
)
def test_what_the_catalog_cannot_serve_is_a_clear_4xx(
    stripekit_settings: Any, body: dict[str, Any], status: int
) -> None:
    answer = Client().post("/stripe/pay/intent", body, content_type="application/json")
    assert answer.status_code == status and answer.json()["error"]


def test_the_posts_need_the_csrf_token(stripekit_settings: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    for path in ("/stripe/pay/intent", "/stripe/checkout/embedded"):
        refused = browser.post(path, {"product": "book"}, content_type="application/json")
        assert refused.status_code == 403
    page = browser.get("/stripe/pay?product=book")
    token = browser.cookies["csrftoken"].value
    assert page.status_code == 200
    allowed = browser.post(
        "/stripe/pay/intent", {"product": "book"}, content_type="application/json",
        headers={"X-CSRFToken": token},
    )  # fmt: skip
    assert allowed.status_code == 200


def test_the_pages_load_stripe_js_with_the_publishable_key(stripekit_settings: Any) -> None:
    page = Client().get("/stripe/pay?product=book&quantity=2").content.decode()
    assert f'src="{stripekit_settings["API_BASE"]}/v3/"' in page
    assert "pk_test_django_shop" in page and "sk_test" not in page and "€38.00" in page
    embedded = Client().get("/stripe/checkout/embedded?product=pro")
    assert embedded.status_code == 200 and "initEmbeddedCheckout" in embedded.content.decode()
    subscription = Client().get("/stripe/pay?product=pro")  # a subscription, no trial
    assert subscription.status_code == 200
    assert "Subscribe $15.00" in subscription.content.decode()
    assert Client().get("/stripe/pay?product=nope").status_code == 404


def test_the_return_page_shows_the_payment_to_its_buyer_only(stripekit_settings: Any) -> None:
    ada = signed_in("ada")
    made = ada.post("/stripe/pay/intent", {"product": "book"}, content_type="application/json")
    get_kit().client.v1.payment_intents.confirm(
        made.json()["id"], {"payment_method": "pm_card_visa"}
    )
    url = f"/stripe/pay/return?payment_intent={made.json()['id']}"
    mine = ada.get(url).content.decode()
    assert 'id="status">paid' in mine and "The Book x 1" in mine and "€19.00" in mine
    stranger = signed_in("mallory").get(url).content.decode()
    assert 'id="status">paid' in stranger and 'id="private"' in stranger
    assert "The Book" not in stranger and "19.00" not in stranger
    anonymous = Client()
    mine = anonymous.post(
        "/stripe/pay/intent", {"product": "book"}, content_type="application/json"
    )
    url = f"/stripe/pay/return?payment_intent={mine.json()['id']}"
    assert "The Book" in anonymous.get(url).content.decode()
    assert "The Book" not in Client().get(url).content.decode()
    assert Client().get("/stripe/pay/return?payment_intent=nope").status_code == 404


def test_a_subscription_product_is_paid_through_its_first_invoice(
    stripekit_settings: Any,
) -> None:
    ada = signed_in("ada")
    made = ada.post(
        "/stripe/pay/intent", {"product": "pro", "amount": 1}, content_type="application/json"
    ).json()
    assert made["id"].startswith("pi_") and made["client_secret"].startswith(made["id"])
    client = get_kit().client
    intent = client.v1.payment_intents.retrieve(made["id"])
    assert (intent.amount, intent.currency) == (1500, "usd")  # the catalog's, not the body's
    (sub,) = client.v1.subscriptions.list({"customer": str(intent.customer)}).data
    assert sub.status == "incomplete" and sub.metadata["stripekit_user"]  # ada, by her id
    client.v1.payment_intents.confirm(made["id"], {"payment_method": "pm_card_visa"})
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    url = f"/stripe/pay/return?payment_intent={made['id']}"
    page = ada.get(url).content.decode()
    # The invoice's intent has no metadata of the kit's: its customer names the buyer.
    assert 'id="status">paid' in page and "$15.00" in page
    stranger = signed_in("mallory").get(url).content.decode()
    assert 'id="private"' in stranger and "15.00" not in stranger


def test_embedded_checkout_returns_to_the_success_page(stripekit_settings: Any) -> None:
    ada = signed_in("ada")
    made = ada.post("/stripe/checkout/embedded", {"product": "book"}).json()
    session = get_kit().client.v1.checkout.sessions.retrieve(made["id"])
    assert str(session.return_url).startswith("http://testserver/stripe/checkout/return?")
    page = ada.get(f"/stripe/checkout/return?session_id={made['id']}")
    assert page.status_code == 200 and "Payment pending" in page.content.decode()
