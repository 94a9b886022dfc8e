"""Payment intents: update, cancel, capture, and 3-D Secure through the API."""

from __future__ import annotations

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator

THREE_D_SECURE = "pm_card_authenticationRequiredOnSetup"


def test_update_then_confirm(client: stripe.StripeClient, shop) -> None:
    customer = client.v1.customers.create({"email": "a@b.c"})
    intent = client.v1.payment_intents.create({"amount": 500, "currency": "usd"})
    mark = shop.mark()
    updated = client.v1.payment_intents.update(
        intent.id,
        {
            "amount": 800,
            "customer": customer.id,
            "description": "two books",
            "metadata": {"order": "7"},
            "payment_method": "pm_card_visa",
        },
    )
    assert (updated.amount, updated.customer, updated.status) == (
        800,
        customer.id,
        "requires_confirmation",
    )
    assert shop.since(mark) == []  # Stripe sends nothing for an update
    paid = client.v1.payment_intents.confirm(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", 800)
    with pytest.raises(stripe.InvalidRequestError, match="status of succeeded"):
        client.v1.payment_intents.update(intent.id, {"amount": 900})
    assert (
        client.v1.payment_intents.update(intent.id, {"metadata": {"shipped": "yes"}}).metadata[
            "shipped"
        ]
        == "yes"
    )


def test_cancel(client: stripe.StripeClient, shop) -> None:
    intent = client.v1.payment_intents.create({"amount": 500, "currency": "usd"})
    mark = shop.mark()
    canceled = client.v1.payment_intents.cancel(
        intent.id, {"cancellation_reason": "requested_by_customer"}
    )
    assert (canceled.status, canceled.cancellation_reason) == (
        "canceled",
        "requested_by_customer",
    )
    assert shop.since(mark) == ["payment_intent.canceled"]
    with pytest.raises(stripe.InvalidRequestError, match="status of canceled"):
        client.v1.payment_intents.cancel(intent.id)


def hold(client: stripe.StripeClient, amount: int) -> stripe.PaymentIntent:
    """A card payment authorized, not captured (``capture_method=manual``)."""
    return client.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": True,
        }
    )


def test_a_held_payment_is_captured_in_part(client: stripe.StripeClient, shop) -> None:
    mark = shop.mark()
    held = hold(client, 1000)
    assert (held.status, held.amount_capturable) == ("requires_capture", 1000)
    charge = client.v1.charges.retrieve(str(held.latest_charge))
    assert (charge.captured, charge.amount_captured) == (False, 0)
    with pytest.raises(stripe.InvalidRequestError, match="at most the amount capturable"):
        client.v1.payment_intents.capture(held.id, {"amount_to_capture": 1500})
    captured = client.v1.payment_intents.capture(held.id, {"amount_to_capture": 600})
    assert (captured.status, captured.amount_received) == ("succeeded", 600)
    charge = client.v1.charges.retrieve(str(held.latest_charge))
    assert (charge.captured, charge.amount_captured) == (True, 600)
    assert shop.since(mark) == [
        "payment_intent.created",
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
    ]
    with pytest.raises(stripe.InvalidRequestError, match="greater than charge amount"):
        client.v1.refunds.create({"payment_intent": held.id, "amount": 700})


def test_canceling_a_held_payment_releases_it(client: stripe.StripeClient) -> None:
    held = hold(client, 1000)
    client.v1.payment_intents.cancel(held.id)
    charge = client.v1.charges.retrieve(str(held.latest_charge))
    assert (charge.amount_refunded, charge.refunded, charge.captured) == (1000, True, False)


def test_three_d_secure_through_the_api(
    client: stripe.StripeClient, emulator: RunningEmulator, shop
) -> None:
    mark = shop.mark()
    intent = client.v1.payment_intents.create(
        {
            "amount": 1000,
            "currency": "usd",
            "payment_method": THREE_D_SECURE,
            "confirm": True,
            "return_url": "https://shop.test/done",
        }
    )
    assert intent.status == "requires_action"
    assert intent.next_action is not None and intent.next_action.redirect_to_url is not None
    url = str(intent.next_action.redirect_to_url.url)
    assert url.startswith(emulator.url)
    page = httpx.get(url)
    assert page.status_code == 200 and "Complete authentication" in page.text
    back = httpx.post(url, data={"three_d_secure": "complete"})
    assert back.status_code == 303
    assert back.headers["location"].startswith("https://shop.test/done?payment_intent=")
    assert "redirect_status=succeeded" in back.headers["location"]
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert shop.since(mark) == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ]


def test_a_failed_challenge_and_an_unset_card_off_session(
    client: stripe.StripeClient, shop
) -> None:
    intent = client.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", "payment_method": THREE_D_SECURE, "confirm": True}
    )
    assert intent.next_action is not None and intent.next_action.redirect_to_url is not None
    failed = httpx.post(
        str(intent.next_action.redirect_to_url.url), data={"three_d_secure": "fail"}
    )
    assert failed.status_code == 200 and "failed" in failed.text
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error is not None
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    with pytest.raises(stripe.CardError) as refused:
        client.v1.payment_intents.create(
            {
                "amount": 1000,
                "currency": "usd",
                "payment_method": THREE_D_SECURE,
                "confirm": True,
                "off_session": True,
            }
        )
    assert refused.value.code == "authentication_required"


def test_a_card_saved_for_later_pays_off_session(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({"email": "a@b.c"})
    first = client.v1.payment_intents.create(
        {
            "amount": 1000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": THREE_D_SECURE,
            "confirm": True,
            "setup_future_usage": "off_session",
        }
    )
    assert first.status == "requires_action"
    assert first.next_action is not None and first.next_action.redirect_to_url is not None
    httpx.post(str(first.next_action.redirect_to_url.url), data={"three_d_secure": "complete"})
    # A card that is set up pays later without its owner: a renewal, a top-up...
    pm = str(client.v1.payment_intents.retrieve(first.id).payment_method)
    later = client.v1.payment_intents.create(
        {
            "amount": 500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": pm,
            "confirm": True,
            "off_session": True,
        }
    )
    assert later.status == "succeeded"
