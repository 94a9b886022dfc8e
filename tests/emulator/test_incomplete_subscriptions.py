"""Subscriptions paid in the page: ``payment_behavior=default_incomplete``, the first
invoice's intent confirmed by the browser with the publishable key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator

PK = "pk_test_emulator_tests"
THREE_D_SECURE = "4000002500003155"


def subscribe(client: stripe.StripeClient, price: str) -> stripe.Subscription:
    customer = client.v1.customers.create({"email": "ada@example.com"})
    return client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": price}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "metadata": {"stripekit_user": "ada"},
            "expand": ["latest_invoice.confirmation_secret"],
        }
    )


def client_secret(sub: stripe.Subscription) -> str:
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice) and invoice.confirmation_secret is not None
    assert invoice.confirmation_secret.type == "payment_intent"
    return invoice.confirmation_secret.client_secret


def confirm(emulator: RunningEmulator, secret: str, card: str, **extra: str) -> httpx.Response:
    """What stripe.confirmPayment sends: a card payment method, then the confirmation."""
    pm = httpx.post(
        f"{emulator.api_base}/v1/payment_methods",
        data={"key": PK, "type": "card", "card[number]": card, "card[exp_month]": "12",
              "card[exp_year]": "2034", "card[cvc]": "123"},
    )  # fmt: skip
    assert pm.status_code == 200, pm.text
    intent = secret.split("_secret_")[0]
    return httpx.post(
        f"{emulator.api_base}/v1/payment_intents/{intent}/confirm",
        data={"key": PK, "client_secret": secret, "payment_method": pm.json()["id"], **extra},
    )


def test_an_incomplete_subscription_becomes_active_when_the_page_pays(
    client: stripe.StripeClient, emulator: RunningEmulator, shop: Any
) -> None:
    price = shop.price(1500)
    mark = shop.mark()
    sub = subscribe(client, price)
    assert sub.status == "incomplete"
    secret = client_secret(sub)
    assert shop.since(mark) == [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
    ]
    mark = shop.mark()
    paid = confirm(emulator, secret, "4242424242424242")
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
    assert "customer" not in paid.json()  # the publishable key's view
    assert shop.since(mark) == [
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    updated = shop.events_since(mark)[-1]["data"]
    assert updated["object"]["status"] == "active"
    assert updated["previous_attributes"]["status"] == "incomplete"
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.status == "active" and after.default_payment_method is not None
    invoice = shop.latest_invoice(sub.id)
    assert invoice.status == "paid" and invoice.amount_paid == 1500
    # Paid: the secret confirms nothing more, and the invoice shows none.
    again = confirm(emulator, secret, "4242424242424242")
    assert again.status_code == 400
    shown = client.v1.invoices.retrieve(invoice.id, {"expand": ["confirmation_secret"]})
    assert shown.confirmation_secret is None


def test_a_decline_leaves_it_incomplete_and_another_card_pays(
    client: stripe.StripeClient, emulator: RunningEmulator, shop: Any
) -> None:
    sub = subscribe(client, shop.price(900))
    secret = client_secret(sub)
    mark = shop.mark()
    declined = confirm(emulator, secret, "4000000000000002")
    assert declined.status_code == 402
    assert declined.json()["error"]["decline_code"] == "generic_decline"
    assert shop.since(mark) == ["payment_intent.payment_failed", "invoice.payment_failed"]
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    invoice = shop.latest_invoice(sub.id)
    assert invoice.status == "open" and invoice.next_payment_attempt is None
    assert confirm(emulator, secret, "4242424242424242").json()["status"] == "succeeded"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_three_d_secure_pays_the_first_invoice_after_the_challenge(
    client: stripe.StripeClient, emulator: RunningEmulator, shop: Any
) -> None:
    sub = subscribe(client, shop.price(1200))
    secret = client_secret(sub)
    asked = confirm(emulator, secret, THREE_D_SECURE, return_url="https://shop.test/back")
    assert asked.json()["status"] == "requires_action"
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    mark = shop.mark()
    back = httpx.post(asked.json()["next_action"]["redirect_to_url"]["url"],
                      data={"three_d_secure": "complete"})  # fmt: skip
    assert back.status_code == 303 and "redirect_status=succeeded" in back.headers["location"]
    assert shop.since(mark) == [
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"payment_behavior": "allow_incomplete"}, "payment_behavior"),
        ({}, "payment_behavior"),
        ({"payment_behavior": "default_incomplete", "items": []}, "items"),
    ],
)
def test_what_the_emulator_does_not_create(
    client: stripe.StripeClient, shop: Any, params: dict[str, Any], param: str
) -> None:
    customer = client.v1.customers.create({})
    body: dict[str, Any] = {"customer": customer.id, "items": [{"price": shop.price()}], **params}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.subscriptions.create(body)  # type: ignore[arg-type]
    assert refused.value.param == param


def test_a_one_time_price_is_refused(client: stripe.StripeClient, shop: Any) -> None:
    customer = client.v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError, match="recurring"):
        client.v1.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": shop.price(interval=None)}],
                "payment_behavior": "default_incomplete",
            }
        )
