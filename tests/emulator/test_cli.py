"""The ``stripekit emulator`` command: its options, and a served emulator forwarding events."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import stripe
from cli_harness import Runner
from webhook_sink import WebhookSink

T = TypeVar("T")

PRODUCTS = textwrap.dedent(
    """
    [products.pro]
    name = "Pro"
    mode = "subscription"

    [[products.pro.prices]]
    lookup_key = "pro_monthly"
    amount = 1500
    currency = "usd"
    interval = "month"
    """
)


@contextmanager
def command(*args: str) -> Iterator[tuple[str, list[str]]]:
    """``stripekit emulator --port P *args`` running; yields its URL and, at exit, its output."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "stripekit.cli", "emulator", "--port", str(port), *args]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: httpx.get(base, timeout=0.5))
        yield base, output
    finally:
        process.terminate()
        output.append(process.communicate(timeout=10)[0].decode())


def eventually(probe: Callable[[], T], seconds: float = 10) -> T:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return probe()
        except (httpx.HTTPError, AssertionError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_the_command_checks_its_options(tmp_path: Path) -> None:
    cli = Runner()
    helped = cli("emulator", "--help")
    assert helped.exit_code == 0
    assert "--forward-to" in helped.stdout and "4242" in helped.stdout
    assert "--seed" in helped.stdout
    no_secret = cli("emulator", "--forward-to", "http://127.0.0.1:8000/stripe/webhook")
    assert no_secret.exit_code == 1
    assert "--forward-to needs --webhook-secret" in no_secret.stderr
    bad_secret = cli("emulator", "--webhook-secret", "sk_test_oops")
    assert bad_secret.exit_code == 1
    assert "whsec_" in bad_secret.stderr
    broken = tmp_path / "products.toml"
    broken.write_text(PRODUCTS.replace('interval = "month"\n', ""))
    bad_seed = cli("emulator", "--seed", str(broken))
    assert bad_seed.exit_code == 1
    assert "products.toml" in bad_seed.stderr and "interval" in bad_seed.stderr


def test_the_command_serves_and_forwards_signed_events() -> None:
    secret = "whsec_from_the_command_line"
    with (
        WebhookSink() as sink,
        command("--forward-to", sink.url, "--webhook-secret", secret) as (base, output),
    ):
        client = stripe.StripeClient("sk_test_cmd", base_addresses={"api": base})
        customer = client.v1.customers.create({"email": "ada@example.com"})

        def delivered() -> None:
            assert sink.received

        eventually(delivered)
        (received,) = sink.received
        event = stripe.Webhook.construct_event(
            received.body.decode(), received.headers["stripe-signature"], secret
        )
        assert event.type == "customer.created"
        assert event.data.object["id"] == customer.id
    assert base in output[0]


def test_the_command_seeds_a_products_file(tmp_path: Path) -> None:
    products = tmp_path / "products.toml"
    products.write_text(PRODUCTS)
    with command("--seed", str(products)) as (base, output):
        client = stripe.StripeClient("sk_test_cmd", base_addresses={"api": base})

        def seeded() -> stripe.Price:
            (price,) = client.v1.prices.list({"lookup_keys": ["pro_monthly"]}).data
            return price

        price = eventually(seeded)
        assert (price.unit_amount, price.recurring and price.recurring.interval) == (1500, "month")
        assert client.v1.products.retrieve(str(price.product)).name == "Pro"
    assert "seeded pro: Pro (pro_monthly)" in output[0]


def test_a_failing_start_up_task_stops_the_emulator_and_is_raised() -> None:
    from stripekit._serving import free_port
    from stripekit.emulator import RunningEmulator, serve

    seen: list[str] = []

    def broken(running: RunningEmulator) -> None:
        seen.append(httpx.get(running.url).text)
        raise RuntimeError("the products file is broken")

    with pytest.raises(RuntimeError, match="the products file is broken"):
        serve(port=free_port(), on_ready=broken)
    assert "emulator" in seen[0]  # it was serving when the task ran
