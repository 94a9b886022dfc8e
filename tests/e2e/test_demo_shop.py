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
    missing: list[str] = []  # no page asks for what is not there (a favicon, say)
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
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
    assert not missing, missing


def test_a_declined_card_shows_the_decline(page: Any, shop: DemoShop) -> None:
    buy(page, shop, "buy-credits-demo_credits_100", "4000 0000 0000 0002")
    assert page.inner_text("#error") == "Your card was declined."
    assert page.url.startswith(f"{shop.stripe}/c/pay/")
    page.goto(f"{shop.url}/orders")
    assert page.locator("#no-orders").count() == 1


def test_subscribing_with_a_trial(page: Any, shop: DemoShop) -> None:
    page.goto(f"{shop.url}/")
    card = page.inner_text("#product-pro")
    assert card.count("7-day free trial") == 1, card
    buy(page, shop, "buy-pro-monthly", "4242424242424242")
    page.wait_for_url(f"{shop.url}/stripe/success?session_id=cs_test_*")
    assert page.inner_text("#status") == "trial started"
    # Nothing is charged today; the page says what comes, and when.
    assert page.inner_text("#total") == "nothing"
    first = page.inner_text("#first-charge")
    assert first.startswith("Free until ") and "then $12.00 is charged" in first
    assert "ada@example.com" in first and "$12.00" not in page.inner_text(".sk-lines")


def test_the_header_stacks_at_phone_width(page: Any, shop: DemoShop) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{shop.url}/")
    brand = page.locator(".sk-brand").bounding_box()
    nav = page.locator(".sk-nav").bounding_box()
    assert brand is not None and nav is not None
    overlap_x = brand["x"] < nav["x"] + nav["width"] and nav["x"] < brand["x"] + brand["width"]
    overlap_y = brand["y"] < nav["y"] + nav["height"] and nav["y"] < brand["y"] + brand["height"]
    assert not (overlap_x and overlap_y), (brand, nav)
    assert nav["x"] + nav["width"] <= 320  # nothing runs off the screen


def test_a_generated_project_in_the_browser(
    page: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project from the template, its pages in its own layout, bought from in Chromium."""
    import importlib
    import sys
    from pathlib import Path

    import stripe
    from cookiecutter.main import cookiecutter

    from stripekit import Catalog, apply_sync, plan_sync, read_account
    from stripekit._serving import serve_in_thread
    from stripekit.emulator import run_emulator

    root = Path(__file__).resolve().parents[2]
    project = Path(cookiecutter(
        str(root / "template"), no_input=True, output_dir=str(tmp_path),
        extra_context={"project_name": "Browser Books"},
    ))  # fmt: skip
    port = free_port()
    with run_emulator() as emulator:
        for name, value in {
            "STRIPE_SECRET_KEY": "sk_test_browser", "STRIPE_WEBHOOK_SECRET": "whsec_browser",
            "STRIPE_API_BASE": emulator.api_base, "STRIPEKIT_BASE_URL": f"http://127.0.0.1:{port}",
            "STRIPEKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite3'}",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        monkeypatch.syspath_prepend(str(project))
        app_module = importlib.import_module("browser_books.app")
        client = stripe.StripeClient("sk_test_browser", base_addresses={"api": emulator.api_base})
        catalog = Catalog.load(project / "products.toml")
        apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
        emulator.add_webhook_endpoint(
            f"http://127.0.0.1:{port}/stripe/webhook", secret="whsec_browser"
        )
        try:
            with serve_in_thread(app_module.create_app(), "127.0.0.1", port) as shop:
                page.goto(f"{shop}/")
                assert "Browser Books" in page.inner_text("header")  # the project's own layout
                page.click("#sign-in-link")
                page.fill("#email", "ada@example.com")
                page.click("#sign-in")
                assert page.inner_text("#signed-in-as") == "ada@example.com"
                page.click("#buy-starter_kit-browser_books_starter_kit")
                page.fill("#card_number", "4242 4242 4242 4242")
                page.click("#pay")
                page.wait_for_url(f"{shop}/stripe/success?session_id=cs_test_*")
                assert page.inner_text("#status") == "paid"
                emulator.wait_for_deliveries()
                page.click("#account-link")
                assert "Starter kit" in page.inner_text("#purchases")
                assert "Browser Books" in page.inner_text("header")  # stripekit's page, framed
        finally:
            for module in [m for m in sys.modules if m.startswith("browser_books")]:
                del sys.modules[module]
