"""Products, prices, customers, webhook endpoints and events through stripe-python."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from stripekit.emulator import RunningEmulator


def make_price(client: stripe.StripeClient, **extra: Any) -> stripe.Price:
    product = client.v1.products.create({"name": "Pro"})
    params: dict[str, Any] = {"product": product.id, "currency": "usd", "unit_amount": 1500}
    params.update(extra)
    return client.v1.prices.create(params)  # type: ignore[arg-type]


def test_products_create_retrieve_update_list(client: stripe.StripeClient) -> None:
    created = client.v1.products.create(
        {
            "name": "Pro",
            "description": "For teams",
            "metadata": {"tier": "2"},
            "marketing_features": [{"name": "Unlimited"}],
            "images": ["https://x.test/a.png"],
        }
    )
    assert created.id.startswith("prod_")
    assert created.object == "product"
    assert created.active is True
    assert created.metadata.to_dict() == {"tier": "2"}
    fetched = client.v1.products.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()
    updated = client.v1.products.update(
        created.id, {"name": "Pro+", "metadata": {"tier": "", "new": "1"}, "active": False}
    )
    assert (updated.name, updated.active) == ("Pro+", False)
    assert updated.metadata.to_dict() == {"new": "1"}  # "" removes a key, like Stripe
    second = client.v1.products.create({"name": "Basic"})
    listed = client.v1.products.list()
    assert [p.id for p in listed.data] == [second.id, created.id]  # newest first
    assert [p.id for p in client.v1.products.list({"active": True}).data] == [second.id]


def test_prices_lookup_keys_transfer_and_archive(client: stripe.StripeClient) -> None:
    old = make_price(client, lookup_key="pro_monthly", recurring={"interval": "month"})
    assert old.type == "recurring"
    assert old.recurring is not None and old.recurring.interval == "month"
    with pytest.raises(stripe.InvalidRequestError, match="already uses that lookup key"):
        make_price(client, lookup_key="pro_monthly")
    new = client.v1.prices.create(
        {
            "product": old.product,
            "currency": "usd",
            "unit_amount": 1900,  # type: ignore[typeddict-item]
            "recurring": {"interval": "month"},
            "lookup_key": "pro_monthly",
            "transfer_lookup_key": True,
        }
    )
    assert client.v1.prices.retrieve(old.id).lookup_key is None
    found = client.v1.prices.list({"lookup_keys": ["pro_monthly"]})
    assert [p.id for p in found.data] == [new.id]
    client.v1.prices.update(old.id, {"active": False})
    assert [p.id for p in client.v1.prices.list({"active": True}).data] == [new.id]
    assert {p.id for p in client.v1.prices.list({"product": str(old.product)}).data} == {
        old.id,
        new.id,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"currency": "usd", "unit_amount": 100}, "Missing required param: product"),
        ({"product": "prod_nope", "currency": "usd", "unit_amount": 100}, "No such product"),
        ({"product": "{product}", "currency": "xyz", "unit_amount": 100}, "Invalid currency"),
        ({"product": "{product}", "currency": "usd", "unit_amount": -1}, "unit_amount"),
        (
            {
                "product": "{product}",
                "currency": "usd",
                "unit_amount": 1,
                "recurring": {"interval": "fortnight"},
            },
            "recurring[interval]",
        ),
    ],
)
def test_bad_prices_are_refused_like_stripe_refuses_them(
    client: stripe.StripeClient, params: dict[str, Any], message: str
) -> None:
    product = client.v1.products.create({"name": "P"})
    if params.get("product") == "{product}":
        params = {**params, "product": product.id}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(params)  # type: ignore[arg-type]
    assert caught.value.http_status in (400, 404)
    assert message in str(caught.value.user_message)


def test_customers_create_update_and_list_by_email(client: stripe.StripeClient) -> None:
    ada = client.v1.customers.create({"email": "ada@example.com", "name": "Ada"})
    client.v1.customers.create({"email": "bob@example.com"})
    assert ada.id.startswith("cus_")
    found = client.v1.customers.list({"email": "ada@example.com"})
    assert [c.id for c in found.data] == [ada.id]
    updated = client.v1.customers.update(ada.id, {"name": "Ada Lovelace"})
    assert updated.name == "Ada Lovelace"
    assert client.v1.customers.retrieve(ada.id).name == "Ada Lovelace"


def test_pagination_walks_forward_and_back(client: stripe.StripeClient) -> None:
    ids = [client.v1.customers.create({"email": f"c{i}@x.test"}).id for i in range(7)]
    newest_first = list(reversed(ids))
    page = client.v1.customers.list({"limit": 3})
    assert [c.id for c in page.data] == newest_first[:3]
    assert page.has_more is True
    nxt = client.v1.customers.list({"limit": 3, "starting_after": page.data[-1].id})
    assert [c.id for c in nxt.data] == newest_first[3:6]
    last = client.v1.customers.list({"limit": 3, "starting_after": nxt.data[-1].id})
    assert [c.id for c in last.data] == newest_first[6:]
    assert last.has_more is False
    back = client.v1.customers.list({"limit": 2, "ending_before": nxt.data[0].id})
    assert [c.id for c in back.data] == newest_first[1:3]
    assert back.has_more is True
    everything = client.v1.customers.list({"limit": 2}).auto_paging_iter()
    assert [c.id for c in everything] == newest_first
    with pytest.raises(stripe.InvalidRequestError, match="limit"):
        client.v1.customers.list({"limit": 101})


def test_expand_replaces_ids_with_objects(client: stripe.StripeClient) -> None:
    price = make_price(client)
    expanded = client.v1.prices.retrieve(price.id, {"expand": ["product"]})
    assert isinstance(expanded.product, stripe.Product)
    assert expanded.product.name == "Pro"
    listed = client.v1.prices.list({"expand": ["data.product"]})
    assert isinstance(listed.data[0].product, stripe.Product)
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.prices.retrieve(price.id, {"expand": ["currency"]})


def test_webhook_endpoints_get_a_secret_once(client: stripe.StripeClient) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        {
            "url": "https://shop.test/stripe/webhook",
            "enabled_events": ["checkout.session.completed"],
        }
    )
    assert endpoint.id.startswith("we_")
    assert endpoint.secret is not None and endpoint.secret.startswith("whsec_")
    listed = client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [endpoint.id]
    assert "secret" not in listed.data[0].to_dict()
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.deleted is True
    assert client.v1.webhook_endpoints.list().data == []


def test_events_are_recorded_and_listed(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Pro"})
    client.v1.products.update(product.id, {"name": "Pro 2"})
    events = client.v1.events.list()
    assert [e.type for e in events.data] == ["product.updated", "product.created"]
    updated = client.v1.events.retrieve(events.data[0].id)
    assert updated.data.previous_attributes is not None
    assert updated.data.previous_attributes["name"] == "Pro"
    only = client.v1.events.list({"type": "product.created"})
    assert [e.type for e in only.data] == ["product.created"]


def test_unknown_ids_urls_and_params(
    client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    assert missing.value.user_message == "No such customer: 'cus_nope'"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.create({"email": "a@b.c", "favourite_colour": "red"})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.http_status == 400
    assert unknown.value.user_message == "Received unknown parameter: favourite_colour"
    for path in ("/v1/coupons", "/v1/customers/search"):
        answer = httpx.get(
            f"{emulator.api_base}{path}", headers={"Authorization": "Bearer sk_test_x"}
        )
        assert answer.status_code == 404
        assert "Unrecognized request URL" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "You did not provide an API key"),
        ("Bearer sk_live_1234567890abcd", "Invalid API Key provided"),
        ("Bearer pk_live_1234567890abcd", "Invalid API Key provided"),
        ("Bearer pk_test_1234567890abcd", "cannot be made with a publishable API key"),
    ],
)
def test_requests_need_a_test_secret_key(
    emulator: RunningEmulator, authorization: str | None, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = httpx.get(f"{emulator.api_base}/v1/products", headers=headers)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert message in error["message"]
    assert "1234567890ab" not in error["message"]  # a key is never echoed whole


def test_stripe_python_reports_a_bad_key(emulator: RunningEmulator) -> None:
    client = stripe.StripeClient("sk_live_oops_oops", base_addresses={"api": emulator.api_base})
    with pytest.raises(stripe.AuthenticationError):
        client.v1.products.list()


def test_an_idempotency_key_replays_the_first_answer(client: stripe.StripeClient) -> None:
    options: Any = {"idempotency_key": "order-42"}
    first = client.v1.customers.create({"email": "a@b.c"}, options)
    again = client.v1.customers.create({"email": "a@b.c"}, options)
    assert again.id == first.id
    assert len(client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.customers.create({"email": "other@b.c"}, options)


def test_idempotent_replays_say_so(emulator: RunningEmulator) -> None:
    headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": "k1"}
    first = httpx.post(
        f"{emulator.api_base}/v1/customers", data={"email": "a@b.c"}, headers=headers
    )
    second = httpx.post(
        f"{emulator.api_base}/v1/customers", data={"email": "a@b.c"}, headers=headers
    )
    assert first.json() == second.json()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert first.headers["request-id"].startswith("req_")


def test_a_declined_payment_intent_is_a_402(client: stripe.StripeClient) -> None:
    ok = client.v1.payment_intents.create(
        {"amount": 500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    assert ok.status == "succeeded"
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            {
                "amount": 500,
                "currency": "usd",
                "confirm": True,
                "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
            }
        )
    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error is not None
    assert declined.value.error.decline_code == "insufficient_funds"
    statuses = [p.status for p in client.v1.payment_intents.list().data]
    assert statuses == ["requires_payment_method", "succeeded"]


def test_reset_forgets_everything(client: stripe.StripeClient, emulator: RunningEmulator) -> None:
    client.v1.products.create({"name": "Pro"})
    httpx.post(f"{emulator.url}/_emulator/reset")
    assert client.v1.products.list().data == []
    assert client.v1.events.list().data == []


def test_a_declined_payment_is_replayed_for_its_idempotency_key(
    client: stripe.StripeClient,
) -> None:
    options: Any = {"idempotency_key": "pay-once"}
    params: Any = {
        "amount": 500,
        "currency": "usd",
        "confirm": True,
        "payment_method": "pm_card_chargeDeclined",
    }
    for _ in range(2):  # Stripe keeps the answer of a request that ran, errors included
        with pytest.raises(stripe.CardError) as declined:
            client.v1.payment_intents.create(params, options)
        assert declined.value.http_status == 402
    assert declined.value.headers is not None
    assert declined.value.headers.get("idempotent-replayed") == "true"
    assert len(client.v1.payment_intents.list().data) == 1


def test_a_request_refused_by_validation_keeps_no_answer(client: stripe.StripeClient) -> None:
    options: Any = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        client.v1.customers.create({"email": "a@b.c", "colour": "red"}, options)  # type: ignore[typeddict-unknown-key]
    fixed = client.v1.customers.create({"email": "a@b.c"}, options)
    assert fixed.id.startswith("cus_")


def test_the_same_idempotency_key_at_once_creates_one_object(
    emulator: RunningEmulator, client: stripe.StripeClient
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(_: int) -> str:
        headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": "burst"}
        answer = httpx.post(
            f"{emulator.api_base}/v1/customers", data={"email": "a@b.c"}, headers=headers
        )
        return str(answer.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(create, range(16)))
    assert len(ids) == 1
    assert len(client.v1.customers.list().data) == 1


def test_ids_have_stripes_prefixes(client: stripe.StripeClient) -> None:
    price = make_price(client, recurring={"interval": "month"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price.id}],
            "success_url": "https://x.test",
            "customer_email": "a@b.c",
        }
    )
    httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    paid = client.v1.checkout.sessions.retrieve(session.id)
    intent = client.v1.payment_intents.create({"amount": 100, "currency": "usd"})
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "https://x.test/h", "enabled_events": ["*"]}
    )
    portal = client.v1.billing_portal.sessions.create({"customer": str(paid.customer)})
    ids = {
        "prod_": str(price.product),
        "price_": price.id,
        "cs_test_": paid.id,
        "cus_": str(paid.customer),
        "sub_": str(paid.subscription),
        "in_": str(paid.invoice),
        "pi_": intent.id,
        "we_": endpoint.id,
        "bps_": portal.id,
        "evt_": client.v1.events.list().data[0].id,
    }
    for prefix, object_id in ids.items():
        assert object_id.startswith(prefix), (prefix, object_id)


def test_a_stripe_version_is_accepted(emulator: RunningEmulator) -> None:
    pinned = stripe.StripeClient(
        "sk_test_x", base_addresses={"api": emulator.api_base}, stripe_version="2024-06-20"
    )
    assert pinned.v1.customers.create({"email": "a@b.c"}).object == "customer"
    answer = httpx.get(
        f"{emulator.api_base}/v1/customers",
        headers={"Authorization": "Bearer sk_test_x", "Stripe-Version": "2024-06-20"},
    )
    assert answer.status_code == 200
    assert answer.headers["stripe-version"] == "2024-06-20"


def test_a_product_with_a_default_price(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(
        {"name": "Pro", "default_price_data": {"currency": "usd", "unit_amount": 900}}
    )
    assert product.default_price is not None
    price = client.v1.prices.retrieve(str(product.default_price))
    assert (price.product, price.unit_amount) == (product.id, 900)
    other = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1})
    moved = client.v1.products.update(product.id, {"default_price": other.id})
    assert moved.default_price == other.id
    expanded = client.v1.products.retrieve(product.id, {"expand": ["default_price"]})
    assert isinstance(expanded.default_price, stripe.Price)
    stranger = make_price(client)
    with pytest.raises(stripe.InvalidRequestError, match="does not belong"):
        client.v1.products.update(product.id, {"default_price": stranger.id})


def test_a_product_without_prices_is_deleted(
    client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    lone = client.v1.products.create({"name": "Lone"})
    deleted = client.v1.products.delete(lone.id)
    assert (deleted.id, deleted.deleted) == (lone.id, True)
    with pytest.raises(stripe.InvalidRequestError, match="No such product"):
        client.v1.products.retrieve(lone.id)
    assert client.v1.products.list().data == []
    assert [e.type for e in client.v1.events.list().data] == ["product.deleted", "product.created"]
    priced = make_price(client)
    with pytest.raises(stripe.InvalidRequestError, match="has one or more user-created prices"):
        client.v1.products.delete(str(priced.product))
    assert client.v1.products.retrieve(str(priced.product)).active is True


def test_a_deleted_customer_answers_deleted_and_its_subscriptions_end(
    client: stripe.StripeClient, shop
) -> None:
    paid = shop.checkout(shop.price())
    customer = str(paid.customer)

    deleted = client.v1.customers.delete(customer)

    assert deleted.to_dict() == {"id": customer, "object": "customer", "deleted": True}
    assert client.v1.customers.retrieve(customer).to_dict() == deleted.to_dict()
    assert client.v1.subscriptions.retrieve(str(paid.subscription)).status == "canceled"
    assert [e.type for e in client.v1.events.list({"limit": 2}).data] == [
        "customer.deleted",
        "customer.subscription.deleted",
    ]
    assert client.v1.customers.list().data == []
    with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
        client.v1.customers.update(customer, {"name": "Ghost"})
    with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
        client.v1.customers.delete(customer)


def test_a_webhook_endpoint_is_updated_and_disabled(
    client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    from webhook_sink import WebhookSink

    with WebhookSink() as sink:
        endpoint = client.v1.webhook_endpoints.create(
            {"url": "https://nowhere.test/hook", "enabled_events": ["product.created"]}
        )
        moved = client.v1.webhook_endpoints.update(
            endpoint.id,
            {
                "url": sink.url,
                "enabled_events": ["customer.created"],
                "description": "local",
                "metadata": {"env": "dev"},
            },
        )
        assert (moved.url, moved.enabled_events, moved.description) == (
            sink.url,
            ["customer.created"],
            "local",
        )
        assert "secret" not in moved.to_dict()
        client.v1.products.create({"name": "not wanted"})
        client.v1.customers.create({"email": "wanted@x.test"})
        emulator.wait_for_deliveries()
        assert sink.types() == ["customer.created"]
        off = client.v1.webhook_endpoints.update(endpoint.id, {"disabled": True})
        assert off.status == "disabled"
        client.v1.customers.create({"email": "unheard@x.test"})
        emulator.wait_for_deliveries()
        assert sink.types() == ["customer.created"]
    with pytest.raises(stripe.InvalidRequestError, match="Invalid URL"):
        client.v1.webhook_endpoints.update(endpoint.id, {"url": "ftp://x"})
