"""Checkout → pay on the emulator's page → webhook to a live Django → order in the DB → paid."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from shop.models import Order

from stripekit.emulator import RunningEmulator


@pytest.mark.django_db(transaction=True)
def test_the_whole_loop(
    stripekit_settings: Any, stripe_emulator: RunningEmulator, live_server: Any, settings: Any
) -> None:
    settings.STRIPEKIT = {**stripekit_settings, "BASE_URL": live_server.url}
    from stripekit_django.conf import reset_kit

    reset_kit()
    stripe_emulator.add_webhook_endpoint(
        f"{live_server.url}/stripe/webhook", secret="whsec_django_shop"
    )
    with httpx.Client(base_url=live_server.url) as browser:
        # As a browser does: the pricing page (and its CSRF cookie), then its form.
        page = browser.get("/stripe/pricing").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]  # type: ignore[index]
        to_checkout = browser.post(
            "/stripe/checkout",
            data={"product": "book", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{live_server.url}/stripe/pricing"},
        )
        assert to_checkout.status_code == 303, to_checkout.text
        pay_url = to_checkout.headers["location"]
        session_id = pay_url.rsplit("/", 1)[1]
        paid = httpx.post(
            pay_url, data={"card_number": "4242424242424242", "email": "ada@example.com"}
        )
        assert paid.status_code == 303
        success = f"{live_server.url}/stripe/success?session_id={session_id}"
        assert paid.headers["location"] == success
        stripe_emulator.wait_for_deliveries()
        assert all(d.ok for d in stripe_emulator.deliveries)
        order = Order.objects.get(session_id=session_id)
        assert order.email == "ada@example.com"
        page = browser.get(f"/stripe/success?session_id={session_id}").text
        assert 'id="status">paid' in page
