"""The in-page payment routes (embedded Checkout, the Payment Element) in FastAPI and Starlette:
the client secret is made server-side from a product and a quantity, whatever else a
tampered request sends; the return pages read Stripe and show details to the buyer only."""

from __future__ import annotations

import httpx
import pytest
import stripe

from stripekit import StripeKit

ADA = {"x-user": "ada"}


def intent(kit: StripeKit, intent_id: str) -> stripe.PaymentIntent:
    return kit.client.v1.payment_intents.retrieve(intent_id)


@pytest.mark.parametrize(
    "tampered",
    [
        {"amount": 1, "currency": "jpy", "price_data": {"unit_amount": 1}, "unit_amount": 1},
        {"amount": "1", "price": None, "total": "0.01"},
    ],
)
async def test_a_tampered_json_request_still_charges_the_catalogs_amount(
    client: httpx.AsyncClient, kit: StripeKit, tampered: dict[str, object]
) -> None:
    answer = await client.post(
        "/stripe/pay/intent", json={"product": "book", "quantity": 2, **tampered}, headers=ADA
    )
    assert answer.status_code == 200, answer.text
    made = intent(kit, answer.json()["id"])
    assert (made.amount, made.currency) == (2 * 1900, "eur")
    assert answer.json()["client_secret"] == made.client_secret


async def test_a_tampered_form_still_charges_the_catalogs_amount(
    client: httpx.AsyncClient, kit: StripeKit
) -> None:
    form = {"product": "book", "quantity": "3", "amount": "1", "currency": "usd"}
    answer = await client.post("/stripe/pay/intent", data=form, headers=ADA)
    assert answer.status_code == 200, answer.text
    assert intent(kit, answer.json()["id"]).amount == 3 * 1900
    session = await client.post(
        "/stripe/checkout/embedded", data={**form, "quantity": "1"}, headers=ADA
    )
    assert session.status_code == 200, session.text
    made = kit.client.v1.checkout.sessions.retrieve(session.json()["id"])
    assert (made.amount_total, made.ui_mode) == (1900, "embedded_page")
    assert session.json()["client_secret"] == made.client_secret


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"product": "platinum"}, 404),
        ({"product": "book", "price": "nope"}, 404),
        ({}, 400),
        ({"product": "book", "quantity": 0}, 422),
        ({"product": "book", "quantity": -1}, 422),
        ({"product": "book", "quantity": 4}, 422),
        ({"product": "book", "quantity": "9" * 400}, 422),
        ({"product": "book", "quantity": 1.5}, 422),
        ({"product": "book", "quantity": True}, 422),
        ({"product": "pro"}, 400),  # a trial: nothing to pay in the page
    ],
)
async def test_what_the_catalog_cannot_serve_is_a_clear_4xx(
    client: httpx.AsyncClient, kit: StripeKit, body: dict[str, object], status: int
) -> None:
    answer = await client.post("/stripe/pay/intent", json=body, headers=ADA)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    assert kit.client.v1.payment_intents.list().data == []


async def test_a_cross_site_post_makes_no_client_secret(client: httpx.AsyncClient) -> None:
    for path in ("/stripe/pay/intent", "/stripe/checkout/embedded"):
        answer = await client.post(
            path, json={"product": "book"}, headers={"sec-fetch-site": "cross-site"}
        )
        assert answer.status_code == 403
        assert "client_secret" not in answer.text


async def test_the_pages_load_stripe_js_with_the_publishable_key_only(
    client: httpx.AsyncClient, kit: StripeKit
) -> None:
    page = await client.get("/stripe/pay", params={"product": "book", "quantity": "2"})
    assert page.status_code == 200
    assert f'src="{kit.settings.api_base}/v3/"' in page.text  # the emulator's stand-in
    assert "pk_test_fastapi_shop" in page.text and "sk_test" not in page.text
    assert "€38.00" in page.text or "38.00" in page.text
    embedded = await client.get("/stripe/checkout/embedded", params={"product": "pro"})
    assert embedded.status_code == 200 and "initEmbeddedCheckout" in embedded.text
    assert (await client.get("/stripe/pay", params={"product": "pro"})).status_code == 400
    assert (await client.get("/stripe/pay", params={"product": "nope"})).status_code == 404


async def test_the_return_page_shows_the_payment_to_its_buyer_only(
    client: httpx.AsyncClient, kit: StripeKit
) -> None:
    made = (await client.post("/stripe/pay/intent", json={"product": "book"}, headers=ADA)).json()
    kit.client.v1.payment_intents.confirm(made["id"], {"payment_method": "pm_card_visa"})
    url = f"/stripe/pay/return?payment_intent={made['id']}"
    mine = await client.get(url, headers=ADA)
    assert mine.status_code == 200 and 'id="status">paid' in mine.text
    assert "The Book x 1" in mine.text and "19.00" in mine.text
    stranger = await client.get(url, headers={"x-user": "mallory"})
    assert 'id="status">paid' in stranger.text and 'id="private"' in stranger.text
    assert "The Book" not in stranger.text and "19.00" not in stranger.text
    assert (await client.get("/stripe/pay/return?payment_intent=pi_nope")).status_code == 404
    assert (await client.get("/stripe/pay/return?payment_intent=../x")).status_code == 404


async def test_an_anonymous_buyer_sees_their_payment_in_the_browser_that_paid(
    client: httpx.AsyncClient, kit: StripeKit
) -> None:
    made = await client.post("/stripe/pay/intent", json={"product": "book"})
    assert made.status_code == 200 and made.cookies.get("stripekit_checkout")
    assert intent(kit, made.json()["id"]).customer is None
    kit.client.v1.payment_intents.confirm(made.json()["id"], {"payment_method": "pm_card_visa"})
    url = f"/stripe/pay/return?payment_intent={made.json()['id']}"
    mine = await client.get(url)  # the client kept the cookie, as the browser does
    assert "The Book" in mine.text
    client.cookies.clear()
    other = await client.get(url)
    assert 'id="private"' in other.text and "The Book" not in other.text


async def test_embedded_checkout_returns_to_the_success_page(
    client: httpx.AsyncClient, kit: StripeKit
) -> None:
    made = (
        await client.post("/stripe/checkout/embedded", json={"product": "book"}, headers=ADA)
    ).json()
    session = kit.client.v1.checkout.sessions.retrieve(made["id"])
    assert session.return_url == (
        "http://shop.test/stripe/checkout/return?session_id={CHECKOUT_SESSION_ID}"
    )
    page = await client.get(f"/stripe/checkout/return?session_id={made['id']}", headers=ADA)
    assert page.status_code == 200 and "Payment pending" in page.text  # not paid yet
