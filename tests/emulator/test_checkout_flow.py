"""Paying on the hosted page with a plain HTTP client; the signed webhooks that follow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from webhook_sink import WebhookSink

from stripekit.emulator import RunningEmulator

WEBHOOK_SECRET = "whsec_emulator_tests"
SUCCESS = "https://shop.test/stripe/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "https://shop.test/stripe/cancel"


def price(client: stripe.StripeClient, amount: int = 2500, **extra: Any) -> stripe.Price:
    product = client.v1.products.create({"name": "The Book"})
    params = {"product": product.id, "currency": "eur", "unit_amount": amount, **extra}
    return client.v1.prices.create(params)  # type: ignore[arg-type]


def session(
    client: stripe.StripeClient, price_id: str, mode: str = "payment", **extra: Any
) -> stripe.checkout.Session:
    params = {
        "mode": mode,
        "line_items": [{"price": price_id, "quantity": 2}],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        **extra,
    }
    return client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]


def pay(url: str, card: str, **form: str) -> httpx.Response:
    page = httpx.get(url)
    assert page.status_code == 200, page.text
    return httpx.post(url, data={"card_number": card, "name": "Ada", **form})


def verified(sink: WebhookSink) -> list[str]:
    """The types received, each checked with stripe-python's own signature check."""
    for received in sink.received:
        stripe.WebhookSignature.verify_header(
            received.body.decode(), received.headers["stripe-signature"], WEBHOOK_SECRET, 300
        )
    return sink.types()


def test_paying_a_one_time_product(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    book = price(client)
    created = session(client, book.id, customer_email="ada@example.com", client_reference_id="u1")
    assert created.url is not None and created.url.startswith(emulator.url)
    assert (created.status, created.payment_status, created.amount_total) == (
        "open",
        "unpaid",
        5000,
    )
    page = httpx.get(created.url)
    assert "The Book" in page.text and "€50.00" in page.text

    answer = pay(created.url, "4242 4242 4242 4242")

    assert answer.status_code == 303
    assert answer.headers["location"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", created.id)
    done = client.v1.checkout.sessions.retrieve(created.id, {"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.client_reference_id == "u1"
    intent = done.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 5000, "eur")
    assert done.customer_details is not None and done.customer_details.email == "ada@example.com"
    emulator.wait_for_deliveries()
    assert verified(sink) == [
        "product.created",
        "price.created",
        "customer.created",
        "payment_intent.created",
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
    completed = sink.received[4].event["data"]["object"]
    assert completed["id"] == created.id and completed["payment_status"] == "paid"


def test_an_existing_customer_is_reused(
    client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    ada = client.v1.customers.create({"email": "ada@example.com"})
    created = session(client, price(client).id, customer=ada.id)
    assert pay(str(created.url), "4242424242424242").status_code == 303
    assert client.v1.checkout.sessions.retrieve(created.id).customer == ada.id
    assert len(client.v1.customers.list().data) == 1


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000000000009995", "Your card has insufficient funds."),
        ("4242 4242 4242 4241", "Your card number is incorrect."),
        ("4111111111111111", "non test card"),
    ],
)
def test_a_declined_card_shows_the_decline_and_leaves_no_payment(
    client: stripe.StripeClient,
    emulator: RunningEmulator,
    sink: WebhookSink,
    card: str,
    message: str,
) -> None:
    created = session(client, price(client).id, customer_email="ada@example.com")
    answer = pay(str(created.url), card)
    assert answer.status_code == 402
    assert message in answer.text
    assert 'id="error"' in answer.text
    still = client.v1.checkout.sessions.retrieve(created.id)
    assert (still.status, still.payment_status) == ("open", "unpaid")
    assert client.v1.payment_intents.list().data == []
    emulator.wait_for_deliveries()
    assert "checkout.session.completed" not in sink.types()
    # The buyer can try again with a good card.
    assert pay(str(created.url), "4242424242424242").status_code == 303


def test_subscribing_with_and_without_a_trial(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    monthly = price(client, 1500, recurring={"interval": "month"})
    created = session(
        client,
        monthly.id,
        "subscription",
        customer_email="ada@example.com",
        subscription_data={"trial_period_days": 14, "metadata": {"plan": "pro"}},
    )
    assert pay(str(created.url), "4242424242424242").status_code == 303
    done = client.v1.checkout.sessions.retrieve(created.id, {"expand": ["subscription", "invoice"]})
    assert done.payment_status == "no_payment_required"  # Stripe's word for a trial
    sub = done.subscription
    assert isinstance(sub, stripe.Subscription)
    assert sub.status == "trialing"
    assert sub.metadata.to_dict() == {"plan": "pro"}
    assert sub.trial_end is not None and sub.trial_start is not None
    assert sub.trial_end - sub.trial_start == 14 * 86400
    invoice = done.invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 0)
    emulator.wait_for_deliveries()
    types = verified(sink)
    assert types[types.index("customer.created") :] == [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]

    plain = session(client, monthly.id, "subscription", customer=str(done.customer))
    assert pay(str(plain.url), "4242424242424242").status_code == 303
    paid = client.v1.checkout.sessions.retrieve(plain.id, {"expand": ["invoice"]})
    assert paid.payment_status == "paid"
    assert isinstance(paid.invoice, stripe.Invoice) and paid.invoice.amount_paid == 3000


def test_line_items_are_listed_and_expandable(client: stripe.StripeClient) -> None:
    created = session(client, price(client).id)
    items = client.v1.checkout.sessions.line_items.list(created.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("The Book", 2, 5000)
    ]
    expanded = client.v1.checkout.sessions.retrieve(created.id, {"expand": ["line_items"]})
    assert expanded.line_items is not None and len(expanded.line_items.data) == 1
    assert client.v1.checkout.sessions.retrieve(created.id).to_dict().get("line_items") is None


def test_session_errors(client: stripe.StripeClient) -> None:
    one_time = price(client)
    monthly = price(client, recurring={"interval": "month"})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"mode": "payment", "line_items": [{"price": monthly.id}]}, "recurring price"),
        (
            {"mode": "subscription", "line_items": [{"price": one_time.id}]},
            "at least one recurring",
        ),
        ({"mode": "payment", "line_items": [{"price": "price_nope"}]}, "No such price"),
        ({"mode": "payment"}, "line_items"),
        ({"mode": "payment", "line_items": [{"price": one_time.id, "quantity": 0}]}, "Quantity"),
        (
            {
                "mode": "payment",
                "line_items": [{"price": one_time.id}],
                "customer": "cus_x",
                "customer_email": "a@b.c",
            },
            "only specify one",
        ),
    ]
    for params, message in cases:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
        assert message in str(caught.value.user_message), params


def test_expire_and_cancel(
    client: stripe.StripeClient, sink: WebhookSink, emulator: RunningEmulator
) -> None:
    created = session(client, price(client).id)
    back = httpx.get(f"{emulator.url}/c/cancel/{created.id}")
    assert (back.status_code, back.headers["location"]) == (303, CANCEL)
    expired = client.v1.checkout.sessions.expire(created.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        client.v1.checkout.sessions.expire(created.id)
    assert httpx.get(str(created.url)).status_code == 410
    assert httpx.post(str(created.url), data={"card_number": "4242424242424242"}).status_code == 400
    listed = client.v1.checkout.sessions.list({"status": "expired"})
    assert [s.id for s in listed.data] == [created.id]
    emulator.wait_for_deliveries()
    assert sink.types()[-1] == "checkout.session.expired"


def test_an_unknown_session_page_is_a_404(emulator: RunningEmulator) -> None:
    assert httpx.get(f"{emulator.url}/c/pay/cs_test_nope").status_code == 404


def test_an_open_session_expires_after_a_day(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    created = session(client, price(client).id)
    emulator.advance_clock(seconds=23 * 3600)
    assert client.v1.checkout.sessions.retrieve(created.id).status == "open"
    emulator.advance_clock(seconds=3600)
    assert client.v1.checkout.sessions.retrieve(created.id).status == "expired"
    assert httpx.get(str(created.url)).status_code == 410
    emulator.wait_for_deliveries()
    assert sink.types()[-1] == "checkout.session.expired"
