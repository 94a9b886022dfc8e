"""Clicking through the demo shop in a real browser: pricing → checkout → pay → paid → order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stripekit._serving import free_port
from stripekit_fastapi._demo import DemoShop, running_demo


@pytest.fixture
def shop() -> Iterator[DemoShop]:
    with running_demo(port=free_port(), emulator_port=free_port()) as running:
        yield running


def buy(page: Any, shop: DemoShop, button: str, card: str) -> None:
    page.goto(f"{shop.url}/")
    assert page.title().startswith("Pricing")
    page.click(f"#{button}")
    page.wait_for_url(f"{shop.stripe}/c/pay/**")
    page.fill("#email", "ada@example.com")
    page.fill("#card_number", card)
    page.click("#pay")


def test_buying_stickers_end_to_end(page: Any, shop: DemoShop) -> None:
    buy(page, shop, "buy-stickers-demo_stickers", "4242 4242 4242 4242")
    page.wait_for_url(f"{shop.url}/stripe/success?session_id=cs_test_*")
    assert page.inner_text("#status") == "paid"
    assert "Sticker pack" in page.inner_text("#summary")
    assert "$5.00" in page.inner_text("#total")
    page.click("#orders-link")
    page.wait_for_url(f"{shop.url}/orders")
    for _ in range(50):  # the webhook may land a moment after the redirect
        if page.locator(".order").count():
            break
        page.wait_for_timeout(100)
        page.reload()
    order = page.inner_text(".order")
    assert "Sticker pack" in order and "ada@example.com" in order and "paid" in order


def test_a_declined_card_shows_the_decline(page: Any, shop: DemoShop) -> None:
    buy(page, shop, "buy-credits-demo_credits_100", "4000 0000 0000 0002")
    assert page.inner_text("#error") == "Your card was declined."
    assert page.url.startswith(f"{shop.stripe}/c/pay/")
    page.goto(f"{shop.url}/orders")
    assert page.locator("#no-orders").count() == 1


def test_subscribing_with_a_trial(page: Any, shop: DemoShop) -> None:
    buy(page, shop, "buy-pro-monthly", "4242424242424242")
    page.wait_for_url(f"{shop.url}/stripe/success?session_id=cs_test_*")
    assert page.inner_text("#status") == "trial started"
