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


def test_the_command_serves_and_forwards_signed_events(tmp_path: object) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx
    from webhook_sink import WebhookSink

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with WebhookSink() as sink:
        command = [
            sys.executable, "-m", "stripekit.cli", "emulator", "--port", str(port),
            "--forward-to", sink.url, "--webhook-secret", "whsec_from_the_command_line",
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(base, timeout=0.5)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            client = stripe.StripeClient("sk_test_cmd", base_addresses={"api": base})
            customer = client.v1.customers.create({"email": "ada@example.com"})
            for _ in range(200):
                if sink.received:
                    break
                time.sleep(0.05)
            (received,) = sink.received
            event = stripe.Webhook.construct_event(
                received.body.decode(),
                received.headers["stripe-signature"],
                "whsec_from_the_command_line",
            )
            assert event.type == "customer.created"
            assert event.data.object["id"] == customer.id
        finally:
            process.terminate()
            output = process.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}" in output
