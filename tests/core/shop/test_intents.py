"""kit.payments.create_intent and embedded Checkout: the catalog prices everything, on the
emulator; what a browser may choose is a product, a price key and a quantity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from billing_flows import Flows, make_kit, write_products

from stripekit import (
    Buyer,
    CheckoutError,
    InvalidQuantityError,
    Settings,
    StripeKit,
    UnknownPriceError,
    UnknownProductError,
)
from stripekit.emulator import RunningEmulator


@pytest.fixture
def kit(stripe_emulator: RunningEmulator, tmp_path: Path) -> StripeKit:
    products = write_products(tmp_path)
    Flows(stripe_emulator, products).close()  # the catalog synced to the emulator
    return make_kit(stripe_emulator, products)


def test_the_intent_is_priced_by_the_catalog(kit: StripeKit) -> None:
    intent = kit.payments.create_intent("pack", 3, Buyer(reference="ada", email="ada@x.test"))
    assert (intent.amount, intent.currency) == (3 * 900, "usd")
    assert intent.metadata.to_dict() == {
        "stripekit_product": "pack",
        "stripekit_price": "bill_pack",
        "stripekit_quantity": "3",
        "stripekit_user": "ada",
    }
    assert intent.automatic_payment_methods is not None
    assert intent.automatic_payment_methods.enabled is True
    assert str(intent.client_secret).startswith(f"{intent.id}_secret_")
    customer = kit.client.v1.customers.retrieve(str(intent.customer))
    assert customer.email == "ada@x.test" and customer.metadata["stripekit_user"] == "ada"


def test_a_signed_in_buyer_keeps_one_customer(kit: StripeKit) -> None:
    ada = Buyer(reference="ada", email="ada@x.test")
    first = kit.payments.create_intent("pack", 1, ada)
    second = kit.payments.create_intent("book", 1, ada)
    assert first.customer == second.customer
    given = kit.payments.create_intent("pack", 1, Buyer(customer=str(first.customer)))
    assert given.customer == first.customer


def test_a_double_submit_is_one_intent_but_two_strangers_get_two(kit: StripeKit) -> None:
    ada = Buyer(reference="ada")
    assert (
        kit.payments.create_intent("pack", 2, ada).id
        == kit.payments.create_intent("pack", 2, ada).id
    )
    one, two = (kit.payments.create_intent("pack", 2, None) for _ in range(2))
    assert one.id != two.id and one.customer is None and one.client_secret != two.client_secret


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda k: k.payments.create_intent("platinum"), UnknownProductError),
        (lambda k: k.payments.create_intent("pack", price="nope"), UnknownPriceError),
        (lambda k: k.payments.create_intent("pro"), CheckoutError),  # a subscription
        *(
            (lambda k, q=q: k.payments.create_intent("pack", q), InvalidQuantityError)
            for q in (0, -1, 6, 10**12, True, "2", 1.5, None)
        ),
        (lambda k: k.payments.create_intent("pack", 1, Buyer(customer="acct_1")), CheckoutError),
        *(
            (lambda k, a=a: k.payments.create_intent("pack", stripe_account=a), CheckoutError)
            for a in ("", "acct_", "cus_123", "acct_1 2", 42)
        ),
        (lambda k: k.payments.create_subscription("pro", stripe_account="acme"), CheckoutError),
        (
            lambda k: k.payments.create_intent(
                "pack", 1, Buyer(metadata={"stripekit_product": "book"})
            ),
            CheckoutError,
        ),
    ],
)
def test_what_the_catalog_cannot_serve_is_refused_before_stripe(
    kit: StripeKit, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(kit)
    assert kit.client.v1.payment_intents.list().data == []


def test_embedded_checkout_takes_a_return_url_and_gives_a_client_secret(kit: StripeKit) -> None:
    params = kit.checkout.build("pack", ui_mode="embedded_page")
    assert params["ui_mode"] == "embedded_page"
    assert (
        params["return_url"]
        == "http://shop.test/stripe/checkout/return?session_id={CHECKOUT_SESSION_ID}"
    )
    assert "success_url" not in params and "cancel_url" not in params
    hosted = kit.checkout.build("pack")
    assert "ui_mode" not in hosted and "return_url" not in hosted
    session = kit.checkout.create("pack", ui_mode="embedded_page", client_reference_id="ada")
    assert str(session.client_secret).startswith(f"{session.id}_secret_")
    assert session.url is None


@pytest.mark.parametrize("ui_mode", ["embedded", "hosted", "elements", "form", "", 1])
def test_an_unknown_ui_mode_is_refused(kit: StripeKit, ui_mode: Any) -> None:
    with pytest.raises(CheckoutError, match="hosted_page, embedded_page"):
        kit.checkout.build("pack", ui_mode=ui_mode)


def test_the_return_urls_and_stripe_js_come_from_settings() -> None:
    s = Settings(secret_key="sk_test_1", base_url="https://shop.example")
    assert s.return_url_template.startswith("https://shop.example/stripe/checkout/return?")
    assert s.payment_return_url_resolved == "https://shop.example/stripe/pay/return"
    assert s.stripe_js_url_resolved == "https://js.stripe.com/v3/"
    emulated = Settings(secret_key="sk_test_1", api_base="http://127.0.0.1:12111")
    assert emulated.stripe_js_url_resolved == "http://127.0.0.1:12111/v3/"
    stripe = Settings(secret_key="sk_test_1", api_base="https://api.stripe.com")
    assert stripe.stripe_js_url_resolved == "https://js.stripe.com/v3/"
    chosen = Settings(secret_key="sk_test_1", stripe_js_url="https://cdn.shop.example/stripe.js")
    assert chosen.stripe_js_url_resolved == "https://cdn.shop.example/stripe.js"
    from stripekit import ConfigurationError

    with pytest.raises(ConfigurationError, match="STRIPEKIT_RETURN_URL must contain"):
        Settings(secret_key="sk_test_1", return_url="https://shop.example/back")


def test_a_subscription_is_made_incomplete_and_the_page_pays_its_first_invoice(
    kit: StripeKit,
) -> None:
    ada = Buyer(reference="ada", email="ada@x.test")
    made = kit.payments.create_subscription("pro", ada)
    sub = made.subscription
    assert sub.status == "incomplete" and made.id == made.payment_intent
    assert made.client_secret.startswith(f"{made.payment_intent}_secret_")
    assert sub.metadata.to_dict() == {
        "stripekit_product": "pro",
        "stripekit_price": "monthly",
        "stripekit_quantity": "1",
        "stripekit_user": "ada",
    }
    # The catalog's price, by its Stripe id; the amount to pay is that price's.
    item = sub["items"].data[0]
    assert (item.price.lookup_key, item.quantity) == ("bill_pro_monthly", 1)
    intent = kit.client.v1.payment_intents.retrieve(made.payment_intent)
    assert (intent.amount, intent.currency, intent.customer) == (1500, "usd", sub.customer)
    # The same buyer keeps one customer, and a double submit is one subscription.
    assert kit.payments.create_subscription("pro", ada).subscription.id == sub.id
    assert kit.payments.create_intent("pack", 1, ada).customer == sub.customer
    kit.client.v1.payment_intents.confirm(made.payment_intent, {"payment_method": "pm_card_visa"})
    after = kit.client.v1.subscriptions.retrieve(sub.id)
    assert after.status == "active" and after.default_payment_method is not None


def test_an_anonymous_subscriber_gets_a_customer_of_their_own(kit: StripeKit) -> None:
    one, two = (kit.payments.create_subscription("pro") for _ in range(2))
    assert one.subscription.customer != two.subscription.customer
    customer = kit.client.v1.customers.retrieve(str(one.subscription.customer))
    assert "stripekit_user" not in customer.metadata


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda k: k.payments.create_subscription("pack"), CheckoutError),  # one-time
        (lambda k: k.payments.create_subscription("pro", price="trial"), CheckoutError),
        (lambda k: k.payments.create_subscription("platinum"), UnknownProductError),
        (lambda k: k.payments.create_subscription("pro", quantity=0), InvalidQuantityError),
        (
            lambda k: k.payments.create_subscription(
                "pro", Buyer(metadata={"stripekit_user": "mallory"})
            ),
            CheckoutError,
        ),
    ],
)
def test_what_a_subscription_in_the_page_cannot_be_is_refused_before_stripe(
    kit: StripeKit, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(kit)
    assert kit.client.v1.subscriptions.list().data == []
