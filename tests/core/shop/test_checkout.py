from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_stripe import SECRET_KEY, FakeStripe, ignore_httpx_data_warning

from stripekit import (
    Catalog,
    CheckoutBuilder,
    CheckoutError,
    InvalidQuantityError,
    Price,
    PriceResolver,
    Product,
    Settings,
    StripeAPIError,
    UnknownPriceError,
    UnknownProductError,
)
from stripekit._stripe_api import make_client

SUCCESS = "https://shop.example/stripe/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "https://shop.example/stripe/cancel"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


CATALOG = Catalog.from_products(
    [
        Product(
            key="pro",
            name="Pro",
            mode="subscription",
            prices=[
                Price(
                    key="monthly",
                    lookup_key="pro_monthly",
                    amount=1500,
                    currency="usd",
                    interval="month",
                    trial_days=14,
                    id="price_pro_monthly",
                ),
                Price(
                    key="yearly",
                    lookup_key="pro_yearly",
                    amount=15000,
                    currency="usd",
                    interval="year",
                ),
            ],
        ),
        Product(
            key="credits",
            name="100 credits",
            mode="payment",
            max_quantity=20,
            prices=[
                Price(lookup_key="credits_100", amount=900, currency="eur", id="price_credits")
            ],
        ),
    ]
)


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        server.add_price(
            "pro_yearly", unit_amount=15000, interval="year", price_id="price_pro_yearly"
        )
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_builder(server: FakeStripe, clock: Clock, **settings: Any) -> CheckoutBuilder:
    config = Settings(
        secret_key=SECRET_KEY, api_base=server.url, base_url="https://shop.example", **settings
    )
    client = make_client(config)
    resolver = PriceResolver(config, lambda: client)
    return CheckoutBuilder(config, CATALOG, resolver, lambda: client, clock=clock)


@pytest.fixture
def builder(stripe_server: FakeStripe, clock: Clock) -> CheckoutBuilder:
    return make_builder(stripe_server, clock)


# -- the params, exactly ------------------------------------------------------------------


def test_payment_params_exactly(builder: CheckoutBuilder) -> None:
    params = builder.build("credits", quantity=3, client_reference_id="user_42")
    metadata = {
        "stripekit_product": "credits",
        "stripekit_price": "credits_100",
        # On the session and its payment: each of their events names the app's user.
        "stripekit_user": "user_42",
    }
    assert params == {
        "mode": "payment",
        "line_items": [{"price": "price_credits", "quantity": 3}],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "client_reference_id": "user_42",
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }


def test_subscription_params_exactly(builder: CheckoutBuilder) -> None:
    params = builder.build(
        "pro",
        customer="cus_Abc123",
        metadata={"campaign": "spring"},
        allow_promotion_codes=True,
        automatic_tax=True,
        locale="pt-BR",
    )
    metadata = {"campaign": "spring", "stripekit_product": "pro", "stripekit_price": "monthly"}
    assert params == {
        "mode": "subscription",
        "line_items": [{"price": "price_pro_monthly", "quantity": 1}],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "customer": "cus_Abc123",
        "metadata": metadata,
        "subscription_data": {"metadata": metadata, "trial_period_days": 14},
        "allow_promotion_codes": True,
        "automatic_tax": {"enabled": True},
        "locale": "pt-BR",
    }


def test_the_mode_comes_from_the_product(builder: CheckoutBuilder) -> None:
    assert builder.build("pro")["mode"] == "subscription"
    assert builder.build("credits")["mode"] == "payment"
    assert "subscription_data" not in builder.build("credits")
    assert "payment_intent_data" not in builder.build("pro")


def test_a_price_is_chosen_by_key_or_lookup_key(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    for choice in ("yearly", "pro_yearly"):
        params = builder.build("pro", price=choice)
        assert params["line_items"] == [{"price": "price_pro_yearly", "quantity": 1}]
        assert params["metadata"]["stripekit_price"] == "yearly"
        assert "trial_period_days" not in params["subscription_data"]
    assert len(stripe_server.requests_to("GET", "/v1/prices")) == 1  # resolved once, cached


def test_amounts_prices_and_urls_cannot_come_from_the_caller(builder: CheckoutBuilder) -> None:
    for name in ("amount", "unit_amount", "price_data", "success_url", "cancel_url", "mode"):
        with pytest.raises(TypeError):
            builder.build("credits", **{name: "x"})  # type: ignore[arg-type]


def test_success_and_cancel_urls_come_from_settings(
    stripe_server: FakeStripe, clock: Clock
) -> None:
    custom = make_builder(
        stripe_server,
        clock,
        success_url="https://shop.example/thanks?s={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example/pricing",
    )
    params = custom.build("credits")
    assert params["success_url"] == "https://shop.example/thanks?s={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"] == "https://shop.example/pricing"


# -- what a request may ask for ---------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, 21, "2", True, 2.5, None])
def test_a_quantity_outside_the_bounds_is_refused(builder: CheckoutBuilder, quantity: Any) -> None:
    with pytest.raises(InvalidQuantityError) as caught:
        builder.build("credits", quantity=quantity)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.minimum, caught.value.maximum) == (1, 20)
    assert str(caught.value) == (
        f"quantity {quantity!r} is not allowed for product 'credits': "
        "give a whole number from 1 to 20"
    )


def test_quantities_within_the_bounds(builder: CheckoutBuilder) -> None:
    assert builder.build("credits", quantity=20)["line_items"][0]["quantity"] == 20
    assert builder.build("credits", quantity=1)["line_items"][0]["quantity"] == 1
    with pytest.raises(InvalidQuantityError):
        builder.build("pro", quantity=2)  # max_quantity defaults to 1


def test_a_refused_request_never_reaches_stripe(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    with pytest.raises(InvalidQuantityError):
        builder.build("pro", price="yearly", quantity=5)
    assert stripe_server.requests == []


@pytest.mark.parametrize("account", ["", "acct_", "cus_123", "acct_1 2", "acct_1\nX-Evil: 1", 42])
def test_a_malformed_stripe_account_is_refused_before_stripe(
    builder: CheckoutBuilder, stripe_server: FakeStripe, account: Any
) -> None:
    """Neither a request in the platform's name nor a price cache of its own for a value
    that is not an account id (an app passing a value from the request would grow it)."""
    with pytest.raises(CheckoutError, match="stripe_account must be a connected account's id"):
        builder.create("pro", stripe_account=account)
    assert stripe_server.requests == []
    assert builder.resolver._accounts == {}


def test_customer_or_email_not_both(builder: CheckoutBuilder) -> None:
    assert builder.build("credits", customer_email="ann@example.com")["customer_email"] == (
        "ann@example.com"
    )
    with pytest.raises(CheckoutError, match="give customer or customer_email, not both"):
        builder.build("credits", customer="cus_123", customer_email="ann@example.com")
    with pytest.raises(CheckoutError, match=r"Stripe customer id \(cus_...\), got 'user_1'"):
        builder.build("credits", customer="user_1")
    with pytest.raises(CheckoutError, match="must be an email address"):
        builder.build("credits", customer_email="not an email")
    with pytest.raises(CheckoutError, match="client_reference_id must be a string of 1 to 200"):
        builder.build("credits", client_reference_id="x" * 201)


def test_metadata_limits(builder: CheckoutBuilder) -> None:
    fits = {f"k{i}": "v" for i in range(48)}
    assert builder.build("credits", metadata=fits)["metadata"] == {
        **fits,
        "stripekit_product": "credits",
        "stripekit_price": "credits_100",
    }
    too_many = {f"k{i}": "v" for i in range(49)}
    with pytest.raises(CheckoutError, match="metadata has 51 keys; Stripe allows at most 50"):
        builder.build("credits", metadata=too_many)
    with pytest.raises(CheckoutError, match="is 41 characters long; Stripe allows at most 40"):
        builder.build("credits", metadata={"k" * 41: "v"})
    assert (
        builder.build("credits", metadata={"k" * 40: "v" * 500})["metadata"]["k" * 40] == "v" * 500
    )
    with pytest.raises(CheckoutError, match="is 501 characters long; Stripe allows at most 500"):
        builder.build("credits", metadata={"k": "v" * 501})
    with pytest.raises(CheckoutError, match="value of 'k' must be a string"):
        builder.build("credits", metadata={"k": 1})  # type: ignore[dict-item]
    with pytest.raises(CheckoutError, match="'stripekit_product' is reserved"):
        builder.build("credits", metadata={"stripekit_product": "pro"})


def test_trial_days(builder: CheckoutBuilder) -> None:
    assert builder.build("pro")["subscription_data"]["trial_period_days"] == 14
    assert builder.build("pro", trial_days=30)["subscription_data"]["trial_period_days"] == 30
    assert "trial_period_days" not in builder.build("pro", trial_days=0)["subscription_data"]
    assert (
        builder.build("pro", price="yearly", trial_days=7)["subscription_data"]["trial_period_days"]
        == 7
    )
    with pytest.raises(CheckoutError, match=r"one-time purchase .* only subscriptions have trials"):
        builder.build("credits", trial_days=7)
    for bad in (731, -1, True, "7"):
        with pytest.raises(CheckoutError, match="trial_days must be a whole number from 0"):
            builder.build("pro", trial_days=bad)  # type: ignore[arg-type]


def test_locale_is_one_stripe_knows(builder: CheckoutBuilder) -> None:
    for locale in ("auto", "fr", "pt-BR", "zh-TW", "es-419"):
        assert builder.build("credits", locale=locale)["locale"] == locale
    with pytest.raises(CheckoutError, match="Checkout has no locale 'pt_BR'; did you mean 'pt-BR'"):
        builder.build("credits", locale="pt_BR")
    with pytest.raises(CheckoutError, match="no locale 'klingon'"):
        builder.build("credits", locale="klingon")


def test_flags_must_be_booleans(builder: CheckoutBuilder) -> None:
    assert builder.build("credits", allow_promotion_codes=False)["allow_promotion_codes"] is False
    assert builder.build("credits", automatic_tax=False)["automatic_tax"] == {"enabled": False}
    with pytest.raises(CheckoutError, match="allow_promotion_codes must be True, False or None"):
        builder.build("credits", allow_promotion_codes="yes")  # type: ignore[arg-type]


def test_unknown_product_and_price(builder: CheckoutBuilder) -> None:
    with pytest.raises(UnknownProductError) as caught:
        builder.build("enterprise")
    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value, CheckoutError)
    assert caught.value.known == ["pro", "credits"]
    assert "the catalog has 'pro', 'credits'" in str(caught.value)
    with pytest.raises(UnknownPriceError, match="choose one of 'monthly', 'yearly'"):
        builder.build("pro", price="weekly")


async def test_abuild_matches_build(builder: CheckoutBuilder) -> None:
    for price in ("monthly", "yearly"):
        assert await builder.abuild("pro", price=price, customer="cus_1") == builder.build(
            "pro", price=price, customer="cus_1"
        )


# -- creating sessions --------------------------------------------------------------------


def test_create_sends_the_params_with_a_derived_idempotency_key(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    session = builder.create("credits", quantity=2, client_reference_id="user_42")
    assert session.id.startswith("cs_test_")
    assert session.url == f"https://checkout.stripe.test/c/pay/{session.id}"
    assert session.mode == "payment"
    (request,) = stripe_server.requests_to("POST", "/v1/checkout/sessions")
    assert request.params == {
        "mode": "payment",
        "line_items[0][price]": "price_credits",
        "line_items[0][quantity]": "2",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "client_reference_id": "user_42",
        "metadata[stripekit_product]": "credits",
        "metadata[stripekit_price]": "credits_100",
        "metadata[stripekit_user]": "user_42",
        "payment_intent_data[metadata][stripekit_product]": "credits",
        "payment_intent_data[metadata][stripekit_price]": "credits_100",
        "payment_intent_data[metadata][stripekit_user]": "user_42",
    }
    assert request.idempotency_key is not None
    assert request.idempotency_key.startswith("stripekit-checkout-")
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"


def test_a_double_submit_by_a_known_buyer_returns_the_same_session(
    builder: CheckoutBuilder, stripe_server: FakeStripe, clock: Clock
) -> None:
    first = builder.create("pro", customer="cus_123")
    clock.now += 5
    second = builder.create("pro", customer="cus_123")
    assert second.id == first.id
    keys = {r.idempotency_key for r in stripe_server.requests_to("POST", "/v1/checkout/sessions")}
    assert len(keys) == 1
    clock.now += builder.IDEMPOTENCY_WINDOW  # a later purchase is a new one
    assert builder.create("pro", customer="cus_123").id != first.id
    other = builder.create("pro", customer="cus_456")
    assert other.id != first.id


def test_anonymous_buyers_never_share_a_session(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    first = builder.create("credits")
    second = builder.create("credits")
    assert first.id != second.id
    keys = [r.idempotency_key for r in stripe_server.requests_to("POST", "/v1/checkout/sessions")]
    assert keys[0] != keys[1]
    assert not any(k and k.startswith("stripekit-") for k in keys)  # stripe-python's own


def test_the_callers_idempotency_key_wins(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    first = builder.create("credits", idempotency_key="order-77")
    assert builder.create("credits", idempotency_key="order-77").id == first.id
    (key,) = {r.idempotency_key for r in stripe_server.requests}
    assert key == "order-77"
    with pytest.raises(CheckoutError, match="idempotency_key must be a string of 1 to 255"):
        builder.create("credits", idempotency_key="")


def test_a_stripe_error_becomes_stripe_api_error(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    stripe_server.fail_next("No such customer: 'cus_gone'", code="resource_missing")
    with pytest.raises(StripeAPIError) as caught:
        builder.create("credits", customer="cus_gone")
    assert caught.value.status == 400
    assert caught.value.code == "resource_missing"
    assert caught.value.request_id == "req_fake0001"
    assert "No such customer: 'cus_gone'" in str(caught.value)


@ignore_httpx_data_warning
async def test_acreate_sends_the_same_request(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    session = await builder.acreate("pro", price="yearly", customer_email="ann@example.com")
    assert session.id.startswith("cs_test_")
    assert session.mode == "subscription"
    (request,) = stripe_server.requests_to("POST", "/v1/checkout/sessions")
    assert request.params == {
        "mode": "subscription",
        "line_items[0][price]": "price_pro_yearly",
        "line_items[0][quantity]": "1",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "customer_email": "ann@example.com",
        "metadata[stripekit_product]": "pro",
        "metadata[stripekit_price]": "yearly",
        "subscription_data[metadata][stripekit_product]": "pro",
        "subscription_data[metadata][stripekit_price]": "yearly",
    }
    assert request.idempotency_key is not None
    assert request.idempotency_key.startswith("stripekit-checkout-")
    again = await builder.acreate("pro", price="yearly", customer_email="ann@example.com")
    assert again.id == session.id


@ignore_httpx_data_warning
async def test_acreate_keeps_anonymous_buyers_apart_and_maps_errors(
    builder: CheckoutBuilder, stripe_server: FakeStripe
) -> None:
    first = await builder.acreate("credits")
    second = await builder.acreate("credits")
    assert first.id != second.id
    stripe_server.fail_next("Your card was declined.", code="card_declined", status=402)
    with pytest.raises(StripeAPIError) as caught:
        await builder.acreate("credits")
    assert (caught.value.status, caught.value.code) == (402, "card_declined")
    assert caught.value.request_id is not None
