"""The account page in a real browser, in the demo: sign in, subscribe, cancel, resume,
change plan, open the portal; buy, get refunded, see it. Screenshots of each step are
kept in the test's artifacts (``screenshot``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stripekit._serving import free_port
from stripekit_fastapi._demo import DemoShop, running_demo


@pytest.fixture
def shop() -> Iterator[DemoShop]:
    with running_demo(port=free_port(), emulator_port=free_port()) as running:
        yield running


def pay(page: Any, shop: DemoShop, button: str) -> str:
    """Click a buy button, pay on the emulator's page; the session id."""
    page.goto(f"{shop.url}/stripe/pricing")
    page.click(f"#{button}")
    page.wait_for_url(f"{shop.stripe}/c/pay/**")
    page.fill("#card_number", "4242 4242 4242 4242")
    page.click("#pay")
    page.wait_for_url(f"{shop.url}/stripe/success?session_id=cs_test_*")
    return str(page.url.split("session_id=")[1])


def account_shows(page: Any, shop: DemoShop, selector: str, text: str) -> str:
    """Open the account page until ``selector`` says ``text`` (a webhook may land late)."""
    for _ in range(100):
        page.goto(f"{shop.url}/stripe/account")
        found = page.locator(selector)
        if found.count() and text in found.first.inner_text():
            return str(found.first.inner_text())
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} never said {text!r}: {page.inner_text('main')}")


def test_the_account_page_in_the_demo(
    page: Any, shop: DemoShop, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"{shop.url}/")
    page.fill("#sign-in-name", "ada")
    page.click("#sign-in")
    assert "Signed in as ada" in page.inner_text("#signed-in-as")

    pay(page, shop, "buy-pro-monthly")
    assert page.inner_text("#status") == "trial started"
    card = account_shows(page, shop, "#subscriptions .sk-card", "Pro")
    assert "Free trial" in card and "Free until" in card
    screenshot("subscribed")

    page.click("[data-action=cancel]")
    assert "stays until the end of the period" in page.inner_text("#notice")
    assert "Ends on" in page.inner_text("#subscriptions")
    screenshot("cancel-at-period-end")
    sub = (
        page.locator("#subscriptions .sk-card")
        .first.get_attribute("id")
        .removeprefix("subscription-")
    )
    assert shop.kit.client.v1.subscriptions.retrieve(sub).cancel_at_period_end is True

    page.click("[data-action=resume]")
    assert "Resumed" in page.inner_text("#notice")
    assert "Ends on" not in page.inner_text("#subscriptions")
    assert shop.kit.client.v1.subscriptions.retrieve(sub).cancel_at_period_end is False

    page.select_option("[data-role=plans]", "team")
    page.click("[data-action=change]")
    preview = page.inner_text("#preview")
    assert "Switch to Team" in preview and "Nothing is charged now" in preview  # a trial
    screenshot("plan-change-preview")
    page.click("#confirm-change")
    assert "Your plan was changed" in page.inner_text("#notice")
    assert "Team" in page.inner_text("#subscriptions")
    screenshot("plan-changed")
    items = shop.kit.client.v1.subscriptions.retrieve(sub)["items"]["data"]
    assert [item["price"]["lookup_key"] for item in items] == ["demo_team_monthly"]

    page.click("#manage-billing button")
    page.wait_for_url(f"{shop.stripe}/p/session/**")
    portal = page.inner_text("body")
    assert "ada@example.com" in portal and "Team $30.00 / month" in portal
    screenshot("portal")
    page.click("#return")
    page.wait_for_url(f"{shop.url}/stripe/account")

    session = pay(page, shop, "buy-stickers-demo_stickers")
    assert page.inner_text("#status") == "paid"
    account_shows(page, shop, "#purchases", "Sticker pack")
    shop.kit.billing.refund(session)  # the shop's admin refunds it (a test helper)
    row = account_shows(page, shop, f"#purchase-{session}", "refunded")
    assert "$5.00" in row
    screenshot("refunded")
    # Everything above happened to ada only.
    page.click("#sign-out")
    page.fill("#sign-in-name", "bob")
    page.click("#sign-in")
    page.goto(f"{shop.url}/stripe/account")
    assert page.locator("#no-subscriptions").count() == 1
    assert page.locator("#no-purchases").count() == 1
