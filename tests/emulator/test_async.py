"""stripe-python's async client against the emulator: every resource, every error, unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe
from fake_stripe import ignore_httpx_data_warning

from stripekit.emulator import RunningEmulator

pytestmark = ignore_httpx_data_warning


@pytest.fixture
async def aclient(emulator: RunningEmulator) -> AsyncIterator[stripe.StripeClient]:
    http = stripe.HTTPXClient()
    yield stripe.StripeClient(
        "sk_test_async",
        base_addresses={"api": emulator.api_base},
        http_client=http,
        max_network_retries=0,
    )
    await http.close_async()


async def pay(url: str, card: str = "4242424242424242") -> httpx.Response:
    async with httpx.AsyncClient() as browser:
        return await browser.post(url, data={"card_number": card, "email": "ada@example.com"})


async def test_catalog_and_customers(aclient: stripe.StripeClient) -> None:
    product = await aclient.v1.products.create_async({"name": "Async", "metadata": {"k": "v"}})
    assert product.id.startswith("prod_")
    assert (await aclient.v1.products.retrieve_async(product.id)).name == "Async"
    renamed = await aclient.v1.products.update_async(product.id, {"name": "Async 2"})
    assert renamed.name == "Async 2"
    old = await aclient.v1.prices.create_async(
        {"product": product.id, "currency": "usd", "unit_amount": 700, "lookup_key": "async"}
    )
    new = await aclient.v1.prices.create_async(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 900,
            "lookup_key": "async",
            "transfer_lookup_key": True,
        }
    )
    found = await aclient.v1.prices.list_async({"lookup_keys": ["async"]})
    assert [p.id for p in found.data] == [new.id]
    archived = await aclient.v1.prices.update_async(old.id, {"active": False})
    assert archived.active is False
    assert (await aclient.v1.prices.retrieve_async(old.id)).lookup_key is None
    ada = await aclient.v1.customers.create_async({"email": "ada@example.com"})
    await aclient.v1.customers.update_async(ada.id, {"name": "Ada"})
    listed = await aclient.v1.customers.list_async({"email": "ada@example.com"})
    assert [(c.id, c.name) for c in listed.data] == [(ada.id, "Ada")]
    assert (await aclient.v1.customers.retrieve_async(ada.id)).email == "ada@example.com"


async def test_pagination(aclient: stripe.StripeClient) -> None:
    ids = [(await aclient.v1.products.create_async({"name": f"P{i}"})).id for i in range(5)]
    newest_first = ids[::-1]
    page = await aclient.v1.products.list_async({"limit": 2})
    assert ([p.id for p in page.data], page.has_more) == (newest_first[:2], True)
    after = await aclient.v1.products.list_async({"limit": 2, "starting_after": page.data[-1].id})
    assert [p.id for p in after.data] == newest_first[2:4]
    before = await aclient.v1.products.list_async({"limit": 2, "ending_before": after.data[0].id})
    assert [p.id for p in before.data] == newest_first[:2]
    walked = [p.id async for p in page.auto_paging_iter()]
    assert walked == newest_first


async def test_paying_in_payment_mode(aclient: stripe.StripeClient) -> None:
    price = await aclient.v1.prices.create_async(
        {"product_data": {"name": "Book"}, "currency": "eur", "unit_amount": 1200}
    )
    session = await aclient.v1.checkout.sessions.create_async(
        {
            "mode": "payment",
            "line_items": [{"price": price.id, "quantity": 2}],
            "success_url": "https://shop.test/ok?id={CHECKOUT_SESSION_ID}",
        }
    )
    items = await aclient.v1.checkout.sessions.line_items.list_async(session.id)
    assert [i.amount_total for i in items.data] == [2400]
    answer = await pay(str(session.url))
    assert answer.headers["location"] == f"https://shop.test/ok?id={session.id}"
    done = await aclient.v1.checkout.sessions.retrieve_async(
        session.id, {"expand": ["payment_intent", "line_items"]}
    )
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert isinstance(done.payment_intent, stripe.PaymentIntent)
    intent = await aclient.v1.payment_intents.retrieve_async(done.payment_intent.id)
    assert (intent.status, intent.amount) == ("succeeded", 2400)
    intents = await aclient.v1.payment_intents.list_async({"customer": str(done.customer)})
    assert [i.id for i in intents.data] == [intent.id]
    listed = await aclient.v1.checkout.sessions.list_async({"payment_intent": intent.id})
    assert [s.id for s in listed.data] == [session.id]
    other = await aclient.v1.checkout.sessions.create_async(
        {"mode": "payment", "line_items": [{"price": price.id}], "success_url": "https://x.test"}
    )
    assert (await aclient.v1.checkout.sessions.expire_async(other.id)).status == "expired"


async def test_subscriptions_invoices_and_the_portal(
    aclient: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    monthly = await aclient.v1.prices.create_async(
        {
            "product_data": {"name": "Pro"},
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
        }
    )
    session = await aclient.v1.checkout.sessions.create_async(
        {
            "mode": "subscription",
            "line_items": [{"price": monthly.id}],
            "success_url": "https://shop.test/ok",
        }
    )
    assert (await pay(str(session.url))).status_code == 303
    done = await aclient.v1.checkout.sessions.retrieve_async(session.id)
    sub = await aclient.v1.subscriptions.retrieve_async(str(done.subscription))
    assert sub.status == "active"
    listed = await aclient.v1.subscriptions.list_async({"customer": str(done.customer)})
    assert [s.id for s in listed.data] == [sub.id]
    invoice = await aclient.v1.invoices.retrieve_async(str(done.invoice))
    assert (invoice.status, invoice.amount_paid) == ("paid", 1500)
    invoices = await aclient.v1.invoices.list_async({"customer": str(done.customer)})
    assert [i.id for i in invoices.data] == [invoice.id]
    portal = await aclient.v1.billing_portal.sessions.create_async(
        {"customer": str(done.customer), "return_url": "https://shop.test/account"}
    )
    assert portal.url.startswith(emulator.url)
    later = await aclient.v1.subscriptions.update_async(sub.id, {"cancel_at_period_end": True})
    assert later.cancel_at_period_end is True
    ended = await aclient.v1.subscriptions.cancel_async(sub.id)
    assert ended.status == "canceled"


async def test_webhook_endpoints_and_events(aclient: stripe.StripeClient) -> None:
    endpoint = await aclient.v1.webhook_endpoints.create_async(
        {"url": "https://shop.test/stripe/webhook", "enabled_events": ["*"]}
    )
    assert str(endpoint.secret).startswith("whsec_")
    assert [e.id for e in (await aclient.v1.webhook_endpoints.list_async()).data] == [endpoint.id]
    assert (await aclient.v1.webhook_endpoints.delete_async(endpoint.id)).deleted is True
    customer = await aclient.v1.customers.create_async({"email": "a@b.c"})
    events = await aclient.v1.events.list_async({"type": "customer.*"})
    assert [e.type for e in events.data] == ["customer.created"]
    event = await aclient.v1.events.retrieve_async(events.data[0].id)
    assert event.data.object["id"] == customer.id


async def test_errors(aclient: stripe.StripeClient, emulator: RunningEmulator) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await aclient.v1.subscriptions.retrieve_async("sub_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    params: Any = {"name": "P", "colour": "red"}
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        await aclient.v1.products.create_async(params)
    assert unknown.value.http_status == 400
    assert unknown.value.user_message == "Received unknown parameter: colour"
    with pytest.raises(stripe.CardError) as declined:
        await aclient.v1.payment_intents.create_async(
            {
                "amount": 100,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )
    assert (declined.value.http_status, declined.value.code) == (402, "card_declined")
    options: Any = {"idempotency_key": "async-1"}
    first = await aclient.v1.customers.create_async({"email": "a@b.c"}, options)
    again = await aclient.v1.customers.create_async({"email": "a@b.c"}, options)
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        await aclient.v1.customers.create_async({"email": "z@b.c"}, options)
    http = stripe.HTTPXClient()
    stranger = stripe.StripeClient(
        "sk_live_not_here", base_addresses={"api": emulator.api_base}, http_client=http
    )
    try:
        with pytest.raises(stripe.AuthenticationError) as refused:
            await stranger.v1.customers.list_async()
        assert refused.value.http_status == 401
    finally:
        await http.close_async()
