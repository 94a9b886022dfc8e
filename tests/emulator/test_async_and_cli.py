"""stripe-python's async client against the emulator; the ``stripekit emulator`` command."""

from __future__ import annotations

import pytest
import stripe
from cli_harness import Runner
from fake_stripe import ignore_httpx_data_warning

from stripekit.emulator import RunningEmulator


@ignore_httpx_data_warning
async def test_the_async_client_works_unchanged(emulator: RunningEmulator) -> None:
    http = stripe.HTTPXClient()
    client = stripe.StripeClient(
        "sk_test_async", base_addresses={"api": emulator.api_base}, http_client=http
    )
    try:
        await _exercise(client)
    finally:
        await http.close_async()


async def _exercise(client: stripe.StripeClient) -> None:
    product = await client.v1.products.create_async({"name": "Async"})
    price = await client.v1.prices.create_async(
        {"product": product.id, "currency": "usd", "unit_amount": 700}
    )
    session = await client.v1.checkout.sessions.create_async(
        {"mode": "payment", "line_items": [{"price": price.id}], "success_url": "https://x.test"}
    )
    fetched = await client.v1.checkout.sessions.retrieve_async(session.id)
    assert fetched.amount_total == 700
    listed = await client.v1.products.list_async({"limit": 1})
    assert [p.id for p in listed.data] == [product.id]
    with pytest.raises(stripe.InvalidRequestError, match="No such price"):
        await client.v1.prices.retrieve_async("price_nope")


def test_the_command_checks_its_options() -> None:
    cli = Runner()
    helped = cli("emulator", "--help")
    assert helped.exit_code == 0
    assert "--forward-to" in helped.stdout and "4242" in helped.stdout
    no_secret = cli("emulator", "--forward-to", "http://127.0.0.1:8000/stripe/webhook")
    assert no_secret.exit_code == 1
    assert "--forward-to needs --webhook-secret" in no_secret.stderr
    bad_secret = cli("emulator", "--webhook-secret", "sk_test_oops")
    assert bad_secret.exit_code == 1
    assert "whsec_" in bad_secret.stderr
