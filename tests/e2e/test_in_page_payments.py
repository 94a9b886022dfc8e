"""Paying inside the shop's own page, in Chromium, offline: embedded Checkout and the Payment
Element, each with a card that pays, one that is declined and one that asks for 3-D Secure.
Stripe.js is the emulator's stand-in; each fulfilment shows on the account page, and the
shop received the webhook events in Stripe's order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stripekit._serving import free_port
from stripekit_fastapi._demo import DemoShop, running_demo

PAYS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
THREE_D_SECURE = "4000 0025 0000 3155"

# What one payment sends, in the emulator's order (after what came before it).
EMBEDDED_PAID = [
    "customer.created",
    "payment_intent.created",
    "checkout.session.completed",
    "payment_intent.succeeded",
]


@pytest.fixture(scope="module")
def shop() -> Iterator[DemoShop]:
    with running_demo(port=free_port(), emulator_port=free_port()) as running:
        yield running


def sign_in(page: Any, shop: DemoShop, name: str) -> None:
    page.goto(f"{shop.url}/")
    page.fill("#sign-in-name", name)
    page.click("#sign-in")
    assert name in page.inner_text("#signed-in-as")


def events_since(page: Any, shop: DemoShop, mark: str | None) -> list[str]:
    """The types of the events Stripe made since event ``mark``, oldest first, once the
    shop has recorded each (the webhook may land a moment after the page)."""
    client = shop.kit.client
    for _ in range(100):
        listed = client.v1.events.list({"limit": 100, **({"ending_before": mark} if mark else {})})
        found = list(reversed(listed.data))
        if all(shop.kit.store.get(e.id) is not None for e in found):
            kinds = [e.type for e in found if not e.type.startswith(("product.", "price."))]
            return kinds
        page.wait_for_timeout(100)
    raise AssertionError("the shop never recorded every event")


def last_event(shop: DemoShop) -> str | None:
    listed = shop.kit.client.v1.events.list({"limit": 1}).data
    return listed[0].id if listed else None


def account_shows(page: Any, shop: DemoShop, text: str) -> str:
    for _ in range(100):
        page.goto(f"{shop.url}/stripe/account")
        purchases = page.inner_text("#purchases")
        if text in purchases:
            return str(purchases)
        page.wait_for_timeout(100)
    raise AssertionError(f"the account page never said {text!r}: {page.inner_text('main')}")


def embedded(page: Any, shop: DemoShop, button: str, card: str) -> Any:
    page.goto(f"{shop.url}/stripe/pricing")
    page.click(f"#{button}")
    page.wait_for_url(f"{shop.url}/stripe/checkout/embedded?**")
    frame = page.frame_locator("iframe[name=stripekit-embedded-checkout]")
    frame.locator("#card_number").fill(card)
    frame.locator("#pay").click()
    return frame


def test_embedded_checkout_pays(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "ada")
    mark = last_event(shop)
    embedded(page, shop, "embedded-stickers-demo_stickers", PAYS)
    page.wait_for_url(f"{shop.url}/stripe/checkout/return?session_id=cs_test_*")
    assert page.inner_text("#status") == "paid"
    assert "Sticker pack" in page.inner_text("#summary") and "$5.00" in page.inner_text("#total")
    screenshot("embedded-paid")
    assert events_since(page, shop, mark) == EMBEDDED_PAID
    assert "Sticker pack" in account_shows(page, shop, "Sticker pack")


def test_embedded_checkout_declines(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "bob")
    mark = last_event(shop)
    frame = embedded(page, shop, "embedded-credits-demo_credits_100", DECLINED)
    assert frame.locator("#error").inner_text() == "Your card was declined."
    assert page.url.startswith(f"{shop.url}/stripe/checkout/embedded?")
    screenshot("embedded-declined")
    assert events_since(page, shop, mark) == []  # a declined checkout records nothing
    page.goto(f"{shop.url}/stripe/account")
    assert page.locator("#no-purchases").count() == 1


def test_embedded_checkout_passes_three_d_secure(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "cy")
    mark = last_event(shop)
    frame = embedded(page, shop, "embedded-credits-demo_credits_100", THREE_D_SECURE)
    frame.locator("#complete").wait_for()
    screenshot("embedded-3ds-challenge")
    frame.locator("#complete").click()
    page.wait_for_url(f"{shop.url}/stripe/checkout/return?session_id=cs_test_*")
    assert page.inner_text("#status") == "paid"
    assert events_since(page, shop, mark) == EMBEDDED_PAID
    assert "100 credits" in account_shows(page, shop, "100 credits")


def element(page: Any, shop: DemoShop, button: str, card: str) -> None:
    page.goto(f"{shop.url}/stripe/pricing")
    page.click(f"#{button}")
    page.wait_for_url(f"{shop.url}/stripe/pay?**")
    page.locator("#stripekit-card-number").fill(card)
    page.click("#pay")


def test_the_payment_element_pays(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "dee")
    mark = last_event(shop)
    element(page, shop, "element-stickers-demo_stickers", PAYS)
    page.wait_for_url(f"{shop.url}/stripe/pay/return?payment_intent=pi_*")
    assert page.inner_text("#status") == "paid"
    assert "$5.00" in page.inner_text("#total")
    screenshot("element-paid")
    assert events_since(page, shop, mark) == [
        "customer.created",
        "payment_intent.created",
        "payment_intent.succeeded",
    ]
    assert "Sticker pack" in account_shows(page, shop, "Sticker pack")


def test_the_payment_element_declines(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "eve")
    mark = last_event(shop)
    element(page, shop, "element-credits-demo_credits_100", DECLINED)
    page.locator("#payment-error:not([hidden])").wait_for()
    assert page.locator("#payment-error").inner_text() == "Your card was declined."
    assert page.url.startswith(f"{shop.url}/stripe/pay?")
    screenshot("element-declined")
    assert events_since(page, shop, mark) == [
        "customer.created",
        "payment_intent.created",
        "payment_intent.payment_failed",
    ]
    purchases = account_shows(page, shop, "failed")
    assert "100 credits" in purchases
    page.locator("#stripekit-card-number")  # the page keeps its form for another card


def test_the_payment_element_passes_three_d_secure(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "fay")
    mark = last_event(shop)
    element(page, shop, "element-credits-demo_credits_100", THREE_D_SECURE)
    page.wait_for_url(f"{shop.stripe}/3ds/pi_*")
    screenshot("element-3ds-challenge")
    page.click("#complete")
    page.wait_for_url(f"{shop.url}/stripe/pay/return?payment_intent=pi_*")
    assert page.inner_text("#status") == "paid"
    assert events_since(page, shop, mark) == [
        "customer.created",
        "payment_intent.created",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ]
    assert "100 credits" in account_shows(page, shop, "100 credits")


def test_the_payment_element_subscribes(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    sign_in(page, shop, "gus")
    mark = last_event(shop)
    element(page, shop, "element-team-monthly", PAYS)
    page.wait_for_url(f"{shop.url}/stripe/pay/return?payment_intent=pi_*")
    assert page.inner_text("#status") == "paid"
    assert "$30.00" in page.inner_text("#total")
    screenshot("element-subscribed")
    assert events_since(page, shop, mark) == [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    for _ in range(100):
        page.goto(f"{shop.url}/stripe/account")
        row = page.locator("#subscriptions [data-status]")
        if row.count() and row.first.get_attribute("data-status") == "active":
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"no active subscription: {page.inner_text('main')}")
    assert "Team" in page.inner_text("#subscriptions")
