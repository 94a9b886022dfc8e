"""What a browser may do with a publishable key: its own intent or session, with its client
secret, and nothing else (the way Stripe scopes pk_ keys); embedded Checkout sessions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator

PK = "pk_test_emulator_tests"


def browser(emulator: RunningEmulator, method: str, path: str, **params: Any) -> httpx.Response:
    """A request as Stripe.js (and the stand-in) makes it: the key in the form, no secret key."""
    flat = {"key": PK, **params}
    if method == "GET":
        return httpx.get(f"{emulator.api_base}{path}", params=flat)
    return httpx.post(f"{emulator.api_base}{path}", data=flat)


@pytest.fixture
def intents(client: stripe.StripeClient) -> tuple[stripe.PaymentIntent, stripe.PaymentIntent]:
    alice = client.v1.customers.create({"email": "alice@example.com"})
    bob = client.v1.customers.create({"email": "bob@example.com"})
    a = client.v1.payment_intents.create(
        {"amount": 1500, "currency": "usd", "customer": alice.id, "metadata": {"who": "alice"}}
    )
    b = client.v1.payment_intents.create({"amount": 9900, "currency": "usd", "customer": bob.id})
    return a, b


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/customers"),
        ("GET", "/v1/payment_intents"),
        ("GET", "/v1/charges"),
        ("GET", "/v1/events"),
        ("POST", "/v1/customers"),
        ("POST", "/v1/refunds"),
        ("POST", "/v1/checkout/sessions"),
        ("POST", "/v1/payment_intents"),
    ],
)
def test_a_publishable_key_alone_opens_nothing(
    emulator: RunningEmulator, intents: Any, method: str, path: str
) -> None:
    answer = browser(emulator, method, path)
    assert answer.status_code == 401
    assert "cannot be made with a publishable API key" in answer.json()["error"]["message"]


def test_a_publishable_key_cannot_read_or_change_another_customers_objects(
    emulator: RunningEmulator, client: stripe.StripeClient, intents: Any
) -> None:
    a, b = intents
    customer = str(b.customer)
    for method, path in (
        ("GET", f"/v1/customers/{customer}"),
        ("POST", f"/v1/customers/{customer}"),
        ("GET", f"/v1/customers/{customer}/payment_methods"),
        ("POST", f"/v1/payment_intents/{b.id}"),
        ("POST", f"/v1/payment_intents/{b.id}/cancel"),
    ):
        assert browser(emulator, method, path).status_code == 401, path
    # Intent B with intent A's secret: Stripe's "does not match", nothing read or paid.
    read = browser(emulator, "GET", f"/v1/payment_intents/{b.id}", client_secret=a.client_secret)
    assert read.status_code == 400
    assert read.json()["error"]["param"] == "client_secret"
    assert "does not match" in read.json()["error"]["message"]
    paid = browser(
        emulator, "POST", f"/v1/payment_intents/{b.id}/confirm",
        client_secret=a.client_secret, payment_method="pm_card_visa",
    )  # fmt: skip
    assert paid.status_code == 400 and "does not match" in paid.json()["error"]["message"]
    assert browser(emulator, "GET", f"/v1/payment_intents/{b.id}").status_code == 400
    assert client.v1.payment_intents.retrieve(b.id).status == "requires_payment_method"


def test_its_own_intent_with_its_secret_shows_no_customer_nor_metadata(
    emulator: RunningEmulator, intents: Any
) -> None:
    a, _ = intents
    answer = browser(emulator, "GET", f"/v1/payment_intents/{a.id}", client_secret=a.client_secret)
    assert answer.status_code == 200
    seen = answer.json()
    assert (seen["id"], seen["amount"], seen["status"]) == (a.id, 1500, "requires_payment_method")
    assert "customer" not in seen and "metadata" not in seen
    assert answer.headers["access-control-allow-origin"] == "*"  # Stripe.js calls from the shop


def test_a_browser_confirms_its_intent_with_a_card_it_entered(
    emulator: RunningEmulator, client: stripe.StripeClient, intents: Any
) -> None:
    a, _ = intents
    card = browser(
        emulator, "POST", "/v1/payment_methods", type="card",
        **{"card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034",
           "card[cvc]": "123"},
    )  # fmt: skip
    assert card.status_code == 200 and card.json()["customer"] is None
    declined = browser(
        emulator, "POST", f"/v1/payment_intents/{a.id}/confirm",
        client_secret=a.client_secret, payment_method="pm_card_chargeDeclined",
    )  # fmt: skip
    assert declined.status_code == 402
    assert declined.json()["error"]["decline_code"] == "generic_decline"
    paid = browser(
        emulator, "POST", f"/v1/payment_intents/{a.id}/confirm",
        client_secret=a.client_secret, payment_method=card.json()["id"],
    )  # fmt: skip
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(a.id).status == "succeeded"


def test_a_browser_may_not_pay_with_another_customers_saved_card(
    emulator: RunningEmulator, client: stripe.StripeClient, intents: Any
) -> None:
    a, b = intents
    saved = client.v1.payment_methods.attach("pm_card_visa", {"customer": str(b.customer)})
    answer = browser(
        emulator, "POST", f"/v1/payment_intents/{a.id}/confirm",
        client_secret=a.client_secret, payment_method=saved.id,
    )  # fmt: skip
    assert answer.status_code == 404
    refused = browser(
        emulator, "POST", f"/v1/payment_intents/{a.id}/confirm",
        client_secret=a.client_secret, payment_method="pm_card_visa", off_session="true",
    )  # fmt: skip
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "off_session"
    assert client.v1.payment_intents.retrieve(a.id).status == "requires_payment_method"


def test_a_browser_pays_a_connected_accounts_intent_only_in_that_account(
    emulator: RunningEmulator, client: stripe.StripeClient
) -> None:
    """Stripe.js loaded with ``{stripeAccount}`` names the account as ``_stripe_account``."""
    seller, other = (client.v1.accounts.create({"type": "standard"}).id for _ in "ab")
    intent = client.v1.payment_intents.create(
        {"amount": 1500, "currency": "usd"}, {"stripe_account": seller}
    )
    card = {"client_secret": intent.client_secret, "payment_method": "pm_card_visa"}
    path = f"/v1/payment_intents/{intent.id}/confirm"
    # Not found from the platform, nor from another connected account of it.
    assert browser(emulator, "POST", path, **card).status_code == 404
    assert browser(emulator, "POST", path, **card, _stripe_account=other).status_code == 404
    stranger = browser(emulator, "POST", path, **card, _stripe_account="acct_notours")
    assert stranger.status_code == 403
    malformed = browser(emulator, "POST", path, **card, _stripe_account="cus_123")
    assert malformed.status_code == 400 and malformed.json()["error"]["param"] == "_stripe_account"
    assert (
        client.v1.payment_intents.retrieve(intent.id, None, {"stripe_account": seller}).status
        == "requires_payment_method"
    )
    # The card a browser enters is made in that account too, and pays there.
    made = browser(
        emulator, "POST", "/v1/payment_methods", type="card", _stripe_account=seller,
        **{"card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034",
           "card[cvc]": "123"},
    )  # fmt: skip
    paid = browser(
        emulator, "POST", path, client_secret=intent.client_secret,
        payment_method=made.json()["id"], _stripe_account=seller,
    )  # fmt: skip
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    read = browser(
        emulator, "GET", f"/v1/payment_intents/{intent.id}",
        client_secret=intent.client_secret, _stripe_account=seller,
    )  # fmt: skip
    assert read.status_code == 200 and read.json()["status"] == "succeeded"


def test_a_secret_key_is_never_taken_from_the_form(emulator: RunningEmulator) -> None:
    answer = httpx.get(f"{emulator.api_base}/v1/customers", params={"key": "sk_test_123"})
    assert answer.status_code == 401
    assert "Authorization header" in answer.json()["error"]["message"]


def embedded(client: stripe.StripeClient, **extra: Any) -> stripe.checkout.Session:
    price = client.v1.prices.create(
        {"product_data": {"name": "Book"}, "currency": "usd", "unit_amount": 2500}
    )
    params: Any = {
        "mode": "payment",
        "ui_mode": "embedded_page",
        "line_items": [{"price": price.id}],
        "return_url": "https://shop.test/back?session_id={CHECKOUT_SESSION_ID}",
        "customer_email": "ada@example.com",
        **extra,
    }
    return client.v1.checkout.sessions.create(params)


def test_an_embedded_session_has_a_client_secret_and_no_url(client: stripe.StripeClient) -> None:
    session = embedded(client)
    assert session.ui_mode == "embedded_page" and session.url is None
    assert str(session.client_secret).startswith(f"{session.id}_secret_")
    hosted = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": session_price(client, session)}],
            "success_url": "https://shop.test/ok",
        }
    )
    assert hosted.ui_mode == "hosted_page" and hosted.client_secret is None


def session_price(client: stripe.StripeClient, session: stripe.checkout.Session) -> str:
    items = client.v1.checkout.sessions.line_items.list(session.id)
    return str(items.data[0].price.id if items.data[0].price else "")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"success_url": "https://shop.test/ok"}, "success_url"),
        ({"cancel_url": "https://shop.test/no"}, "cancel_url"),
        ({"return_url": ""}, "return_url"),
    ],
)
def test_an_embedded_session_takes_a_return_url_only(
    client: stripe.StripeClient, extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        embedded(client, **extra)
    assert refused.value.param == param
    assert client.v1.checkout.sessions.list().data == []


def test_the_embedded_page_needs_the_sessions_secret_and_pays(
    emulator: RunningEmulator, client: stripe.StripeClient
) -> None:
    session = embedded(client)
    page = f"{emulator.url}/c/embed/{session.id}"
    assert httpx.get(page).status_code == 404
    assert httpx.get(page, params={"client_secret": "cs_test_x_secret_y"}).status_code == 404
    assert httpx.get(f"{emulator.url}/c/pay/{session.id}").status_code == 404  # not hosted
    shown = httpx.get(page, params={"client_secret": session.client_secret})
    assert shown.status_code == 200 and "$25.00" in shown.text
    wrong = httpx.post(page, data={"card_number": "4242424242424242", "client_secret": "nope"})
    assert wrong.status_code == 404
    declined = httpx.post(
        page, data={"card_number": "4000000000000002", "client_secret": session.client_secret}
    )
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    challenge = httpx.post(
        page, data={"card_number": "4000002500003155", "client_secret": session.client_secret}
    )
    assert "Complete authentication" in challenge.text
    done = httpx.post(
        page,
        data={
            "card_number": "4000002500003155",
            "client_secret": str(session.client_secret),
            "three_d_secure": "complete",
        },
    )
    assert done.status_code == 200
    assert f"https://shop.test/back?session_id={session.id}" in done.text
    assert "stripekit:checkout-complete" in done.text
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    read = browser(
        emulator, "GET", f"/v1/checkout/sessions/{session.id}", client_secret=session.client_secret
    )
    assert read.json()["status"] == "complete" and "customer_details" not in read.json()


def test_the_stripe_js_stand_in_is_served(emulator: RunningEmulator) -> None:
    script = httpx.get(f"{emulator.url}/v3/")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert "window.Stripe = Stripe" in script.text
    assert "sk_" not in script.text.replace("a secret key", "")
