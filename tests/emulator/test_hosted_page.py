"""The hosted page: 3-D Secure challenges, setup mode, trials without a card, trial_end."""

from __future__ import annotations

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator

THREE_D_SECURE = "4000002500003155"
DAY = 86400


def new_session(client: stripe.StripeClient, shop, **params) -> stripe.checkout.Session:
    if params.get("mode", "payment") == "payment":
        params.setdefault("line_items", [{"price": shop.price(2500, interval=None)}])
    return client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "success_url": "https://shop.test/ok",
            "customer_email": "a@b.c",
            **params,
        }
    )


def test_a_card_that_asks_for_3d_secure_shows_a_challenge_first(
    client: stripe.StripeClient, shop
) -> None:
    session = new_session(client, shop)
    mark = shop.mark()
    challenge = shop.pay_page(str(session.url), THREE_D_SECURE, name="Ada")
    assert challenge.status_code == 200
    assert "3D Secure" in challenge.text and "$25.00" in challenge.text
    assert shop.since(mark) == []  # nothing happens before the buyer answers

    done = httpx.post(
        str(session.url),
        data={"card_number": THREE_D_SECURE, "name": "Ada", "three_d_secure": "complete"},
    )

    assert done.status_code == 303
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert shop.since(mark) == [
        "customer.created",
        "payment_intent.created",
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]


def test_a_failed_challenge_is_refused_and_leaves_the_session_open(
    client: stripe.StripeClient, shop
) -> None:
    session = new_session(client, shop)
    mark = shop.mark()
    failed = httpx.post(
        str(session.url), data={"card_number": THREE_D_SECURE, "three_d_secure": "fail"}
    )
    assert failed.status_code == 402
    assert "We are unable to authenticate your payment method" in failed.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert shop.since(mark) == []
    assert shop.pay_page(str(session.url), "4242424242424242").status_code == 303


def test_a_subscription_on_a_3d_secure_card_renews_off_session(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": shop.price(1000)}],
            "success_url": "https://shop.test/ok",
            "customer_email": "a@b.c",
        }
    )
    assert "3D Secure" in shop.pay_page(str(session.url), THREE_D_SECURE).text
    done = httpx.post(
        str(session.url), data={"card_number": THREE_D_SECURE, "three_d_secure": "complete"}
    )
    assert done.status_code == 303
    sub_id = str(client.v1.checkout.sessions.retrieve(session.id).subscription)
    emulator.advance_clock(days=32)
    renewed = client.v1.subscriptions.retrieve(sub_id)
    assert renewed.status == "active"
    assert client.v1.invoices.retrieve(str(renewed.latest_invoice)).status == "paid"


def test_setup_mode_saves_a_card_to_the_customer(client: stripe.StripeClient, shop) -> None:
    customer = client.v1.customers.create({"email": "a@b.c"})
    mark = shop.mark()
    session = shop.checkout(
        None,
        mode="setup",
        customer=customer.id,
        currency="usd",
        setup_intent_data={"metadata": {"why": "new card"}},
        card="5555555555554444",
    )
    assert (session.status, session.payment_status) == ("complete", "no_payment_required")
    assert session.amount_total is None
    intent = client.v1.setup_intents.retrieve(str(session.setup_intent))
    assert (intent.status, intent.customer, intent.usage) == (
        "succeeded",
        customer.id,
        "off_session",
    )
    assert intent.metadata.to_dict() == {"why": "new card"}
    (card,) = client.v1.customers.payment_methods.list(customer.id).data
    assert card.id == intent.payment_method
    assert card.card is not None and (card.card.brand, card.card.last4) == ("mastercard", "4444")
    assert shop.since(mark) == [
        "setup_intent.created",
        "setup_intent.succeeded",
        "checkout.session.completed",
    ]


def test_setup_mode_declines_a_card_that_cannot_be_saved(client: stripe.StripeClient, shop) -> None:
    customer = client.v1.customers.create({"email": "a@b.c"})
    session = new_session(client, shop, mode="setup", customer=customer.id, customer_email=None)
    answer = shop.pay_page(str(session.url), "4000000000000002")
    assert answer.status_code == 402
    assert client.v1.payment_methods.list({"customer": customer.id}).data == []
    saved = shop.pay_page(str(session.url), "4000000000000341")  # saved fine, charges fail
    assert saved.status_code == 303


def test_a_trial_may_start_without_a_card(client: stripe.StripeClient, shop) -> None:
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": shop.price(1000)}],
            "success_url": "https://shop.test/ok",
            "customer_email": "a@b.c",
            "payment_method_collection": "if_required",
            "subscription_data": {"trial_period_days": 14},
        }
    )
    page = httpx.get(str(session.url)).text
    assert "optional" in page
    assert shop.pay_page(str(session.url), "").status_code == 303
    sub = client.v1.subscriptions.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).subscription)
    )
    assert (sub.status, sub.default_payment_method) == ("trialing", None)
    plain = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": shop.price(1000)}],
            "success_url": "https://shop.test/ok",
            "customer_email": "a@b.c",
        }
    )
    assert shop.pay_page(str(plain.url), "").status_code == 402  # a card is needed


def test_trial_end_and_expires_at(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    now = emulator.emulator.state.clock.now()
    sub = shop.subscribe(1000, subscription_data={"trial_end": now + 10 * DAY})
    assert (sub.status, sub.trial_end) == ("trialing", now + 10 * DAY)
    with pytest.raises(stripe.InvalidRequestError, match="48 hours"):
        shop.subscribe(1000, subscription_data={"trial_end": now + DAY})
    with pytest.raises(stripe.InvalidRequestError, match="only specify one"):
        shop.subscribe(1000, subscription_data={"trial_end": now + 5 * DAY, "trial_period_days": 3})
    soon = new_session(client, shop, expires_at=now + 3600)
    assert soon.expires_at == now + 3600
    with pytest.raises(stripe.InvalidRequestError, match="30 minutes and 24 hours"):
        new_session(client, shop, expires_at=now + 60)
    emulator.advance_clock(seconds=3600)
    assert client.v1.checkout.sessions.retrieve(soon.id).status == "expired"
