"""A connected account's storefront in Chromium, offline: the app resolves the account from the
host the browser asked for, and the pages that take the card load Stripe.js (the emulator's
stand-in) for that account, so the payment is made, confirmed and read back there.

The shop is served once at 127.0.0.1 and reached under two names: ``127.0.0.1`` is a
connected account's storefront, ``localhost`` the platform's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from billing_flows import Flows, write_products
from fastapi import FastAPI, Request

from stripekit import StripeKit
from stripekit._serving import free_port, serve_in_thread
from stripekit.emulator import RunningEmulator
from stripekit_fastapi import stripekit_router

PAYS = "4242 4242 4242 4242"


class Storefronts:
    def __init__(self, port: int, seller: str, flows: Flows) -> None:
        self.seller = seller
        self.flows = flows
        self.seller_url = f"http://127.0.0.1:{port}"
        self.platform_url = f"http://localhost:{port}"


@pytest.fixture
def shop(stripe_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Storefronts]:
    flows = Flows(stripe_emulator, write_products(tmp_path))
    (seller,) = flows.connect(1)
    port = free_port()
    accounts = {"127.0.0.1": seller}  # a real app: its storefronts' hosts

    def storefront(request: Request) -> str | None:
        return accounts.get(request.url.hostname or "")

    kit = StripeKit(
        secret_key="sk_test_billing",
        publishable_key="pk_test_storefront",
        api_base=stripe_emulator.api_base,
        products=str(tmp_path / "products.toml"),
        base_url=f"http://127.0.0.1:{port}",
        trusted_origins=f"http://localhost:{port}",
        database_url=f"sqlite:///{tmp_path / 'events.sqlite3'}",
        billing=False,
    )
    app = FastAPI()
    app.include_router(stripekit_router(kit, connected_account=storefront), prefix="/stripe")
    with serve_in_thread(app, "127.0.0.1", port, what="the storefronts"):
        yield Storefronts(port, seller, flows)
    flows.close()


def read(flows: Flows, kind: str, object_id: str, account: str | None) -> dict[str, Any] | None:
    try:
        return flows.current(kind, object_id, account)
    except Exception:  # Stripe's 404: not in that account
        return None


def test_the_payment_element_pays_in_the_storefronts_account(page: Any, shop: Storefronts) -> None:
    page.goto(f"{shop.seller_url}/stripe/pay?product=book")
    page.locator("#stripekit-card-number").wait_for()  # the intent was made, the form mounted
    page.locator("#stripekit-card-number").fill(PAYS)
    page.click("#pay")
    page.wait_for_url(f"{shop.seller_url}/stripe/pay/return?payment_intent=pi_*")
    assert page.inner_text("#status") == "paid"
    assert "$19.00" in page.inner_text("#summary")  # this browser's own order: its details
    intent = page.url.split("payment_intent=")[1].split("&")[0]
    found = read(shop.flows, "payment_intent", intent, shop.seller)
    assert found is not None and found["status"] == "succeeded"
    assert read(shop.flows, "payment_intent", intent, None) is None
    # The platform's storefront does not know the seller's payment.
    page.goto(f"{shop.platform_url}/stripe/pay/return?payment_intent={intent}")
    assert "no payment" in page.inner_text("main")


def test_embedded_checkout_pays_in_the_storefronts_account(page: Any, shop: Storefronts) -> None:
    page.goto(f"{shop.seller_url}/stripe/checkout/embedded?product=book")
    frame = page.frame_locator("iframe[name=stripekit-embedded-checkout]")
    frame.locator("#email").fill("buyer@example.com")  # an anonymous buyer
    frame.locator("#card_number").fill(PAYS)
    frame.locator("#pay").click()
    page.wait_for_url(f"{shop.seller_url}/stripe/checkout/return?session_id=cs_test_*")
    assert page.inner_text("#status") == "paid"
    session = page.url.split("session_id=")[1].split("&")[0]
    found = read(shop.flows, "session", session, shop.seller)
    assert found is not None and found["status"] == "complete"
    assert read(shop.flows, "session", session, None) is None


def test_the_platforms_storefront_pays_the_platform(page: Any, shop: Storefronts) -> None:
    page.goto(f"{shop.platform_url}/stripe/pay?product=book")
    page.locator("#stripekit-card-number").wait_for()
    page.locator("#stripekit-card-number").fill(PAYS)
    page.click("#pay")
    # The return page is the shop's base URL's (the seller's host): it cannot read the
    # platform's payment there, so the test reads Stripe.
    page.wait_for_url("**/stripe/pay/return?payment_intent=pi_*")
    intent = page.url.split("payment_intent=")[1].split("&")[0]
    found = read(shop.flows, "payment_intent", intent, None)
    assert found is not None and found["status"] == "succeeded"
    assert read(shop.flows, "payment_intent", intent, shop.seller) is None
