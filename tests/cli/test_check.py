"""``stripekit check``: each failure on its own line, with what to fix; exit 1 if any."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe
from cli_harness import SECRET, Runner

from stripekit.emulator import RunningEmulator

PRODUCTS = """
[products.book]
name = "The Book"
mode = "payment"

[[products.book.prices]]
lookup_key = "book_usd"
amount = 1900
currency = "usd"
"""


SECRET_KEY = "sk_test_check"


@pytest.fixture
def stripe_api(stripe_emulator: RunningEmulator) -> stripe.StripeClient:
    """The emulator, selling the book of PRODUCTS."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_emulator.api_base})
    client.v1.prices.create(
        {"product_data": {"name": "The Book"}, "currency": "usd", "unit_amount": 1900,
         "lookup_key": "book_usd"}
    )  # fmt: skip
    return client


@pytest.fixture
def good_env(
    stripe_api: stripe.StripeClient, stripe_emulator: RunningEmulator, tmp_path: Path
) -> dict[str, str]:
    products = tmp_path / "products.toml"
    products.write_text(PRODUCTS)
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_check",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": stripe_emulator.api_base,
        "STRIPEKIT_PRODUCTS": str(products),
    }


@pytest.fixture
def accept_everything() -> Iterator[str]:
    """A webhook route that answers 200 to anything: it never verifies signatures."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    server.shutdown()
    server.server_close()
    thread.join()


def lines(output: str) -> dict[str, str]:
    """check's lines by what they check: '✓' or '✗' plus the rest."""
    found = {}
    for line in output.splitlines():
        if line[:1] in "✓✗":
            what = line[2:].split(": ", 1)[0]
            found[what] = line
    return found


def test_everything_set_up_passes(cli: Runner, good_env: dict[str, str]) -> None:
    result = cli("check", env=good_env)
    assert result.exit_code == 0, result.output
    checks = lines(result.stdout)
    assert all(line.startswith("✓") for line in checks.values()), result.stdout
    assert "1 price id(s) found" in checks["every price resolves in Stripe"]


@pytest.mark.parametrize(
    ("change", "failing", "says"),
    [
        ({"STRIPE_SECRET_KEY": None}, "secret key", "STRIPE_SECRET_KEY is not set"),
        ({"STRIPE_PUBLISHABLE_KEY": None}, "publishable key", "STRIPE_PUBLISHABLE_KEY is not set"),
        ({"STRIPE_WEBHOOK_SECRET": None}, "webhook secret", "STRIPE_WEBHOOK_SECRET is not set"),
        ({"STRIPEKIT_PRODUCTS": None}, "products file", "STRIPEKIT_PRODUCTS is not set"),
        ({"STRIPEKIT_PRODUCTS": "/nowhere/products.toml"}, "products file", "not found"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:9"}, "Stripe accepts the key", "could not reach"),
    ],
)
def test_each_problem_fails_its_line(
    cli: Runner, good_env: dict[str, str], change: dict[str, str | None], failing: str, says: str
) -> None:
    env = {k: v for k, v in {**good_env, **change}.items() if v is not None}
    result = cli("check", env=env)
    assert result.exit_code == 1
    checks = lines(result.stdout)
    assert checks[failing].startswith("✗"), result.stdout
    assert says.lower() in checks[failing].lower()
    assert checks["settings"].startswith("✓")
    # Checks that do not depend on the failing one still run and pass.
    assert checks["publishable key" if failing != "publishable key" else "secret key"][0] == "✓"


def test_a_price_missing_in_stripe_fails(
    cli: Runner, good_env: dict[str, str], stripe_api: stripe.StripeClient
) -> None:
    (price,) = stripe_api.v1.prices.list().data
    stripe_api.v1.prices.update(price.id, {"lookup_key": ""})
    result = cli("check", env=good_env)
    assert result.exit_code == 1
    line = lines(result.stdout)["every price resolves in Stripe"]
    assert line.startswith("✗")
    assert "book_usd" in line


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"STRIPE_PUBLISHABLE_KEY": "pk_live_oops"}, "STRIPE_PUBLISHABLE_KEY is a live key"),
        ({"STRIPE_SECRET_KEY": "pk_test_oops"}, "STRIPE_SECRET_KEY holds a publishable key"),
        ({"STRIPE_WEBHOOK_SECRET": "oops"}, "signing secret there (whsec_...)"),
    ],
)
def test_settings_that_cannot_load_fail_first(
    cli: Runner, good_env: dict[str, str], change: dict[str, str], says: str
) -> None:
    result = cli("check", env={**good_env, **change})
    assert result.exit_code == 1
    assert result.stdout.startswith("✗ settings: ")
    assert says in result.stdout
    assert "oops" not in result.stdout  # a key is never echoed back


def test_the_webhook_url_answers_and_refuses_forgeries(
    cli: Runner, good_env: dict[str, str], shop: Any, webhook_app: str
) -> None:
    result = cli("check", "--url", webhook_app, env=good_env)
    assert result.exit_code == 0, result.output
    checks = lines(result.stdout)
    assert checks[f"{webhook_app} answers a signed event"].startswith("✓")
    assert checks[f"{webhook_app} refuses a forged signature"].startswith("✓")


def test_a_route_that_skips_verification_fails(
    cli: Runner, good_env: dict[str, str], accept_everything: str
) -> None:
    result = cli("check", "--url", accept_everything, env=good_env)
    assert result.exit_code == 1
    line = lines(result.stdout)[f"{accept_everything} refuses a forged signature"]
    assert line.startswith("✗")
    assert "must verify signatures" in line


def test_a_route_with_another_secret_fails(
    cli: Runner, good_env: dict[str, str], shop: Any, webhook_app: str
) -> None:
    env = {**good_env, "STRIPE_WEBHOOK_SECRET": "whsec_someone_else"}
    result = cli("check", "--url", webhook_app, env=env)
    assert result.exit_code == 1
    line = lines(result.stdout)[f"{webhook_app} answers a signed event"]
    assert "is it the same secret?" in line


def test_an_unreachable_url_fails(cli: Runner, good_env: dict[str, str]) -> None:
    result = cli("check", "--url", "http://127.0.0.1:9/webhook", env=good_env)
    assert result.exit_code == 1
    assert "is the app running?" in result.stdout


@pytest.mark.parametrize("command", [["products", "sync"], ["products", "pull", "--out", "-"]])
def test_an_emulator_that_is_not_running_is_one_line(
    cli: Runner, tmp_path: Path, command: list[str]
) -> None:
    from stripekit._serving import free_port

    products = tmp_path / "products.toml"
    products.write_text(PRODUCTS, encoding="utf-8")
    port = free_port()  # nobody listens there
    env = {
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
        "STRIPEKIT_PRODUCTS": str(products),
    }
    result = cli(*command, env=env)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: could not reach Stripe at http://127.0.0.1:{port}: connection refused; "
        "is `stripekit emulator` running?"
    )


def test_an_unreachable_remote_api_says_to_check_the_network() -> None:
    import requests
    import stripe

    from stripekit._stripe_api import map_stripe_error

    cause = requests.ConnectTimeout("timed out")
    cause.request = requests.Request("GET", "https://api.stripe.example/v1/prices").prepare()
    try:
        raise stripe.APIConnectionError("Network error") from cause
    except stripe.APIConnectionError as exc:
        error = map_stripe_error(exc)
    assert str(error) == (
        "could not reach Stripe at https://api.stripe.example: no answer in time; "
        "check STRIPE_API_BASE and the network"
    )


# -- the webhook endpoints' API version ---------------------------------------------------------


def test_check_passes_an_endpoint_on_the_kits_api_version(
    cli: Runner, good_env: dict[str, str], stripe_emulator: RunningEmulator
) -> None:
    endpoint = stripe_emulator.add_webhook_endpoint("https://shop.test/stripe/webhook")
    result = cli("check", env=good_env)
    assert result.exit_code == 0, result.output
    assert f"✓ webhook endpoint {endpoint['id']} (https://shop.test/stripe/webhook): API " in (
        result.stdout
    )
    assert f"API version {stripe.api_version}, the kit's" in result.stdout


def test_check_says_what_to_do_when_an_endpoint_speaks_another_version(
    cli: Runner, good_env: dict[str, str], stripe_api: stripe.StripeClient
) -> None:
    stripe_api.v1.webhook_endpoints.create({
        "url": "https://shop.test/old", "enabled_events": ["*"], "api_version": "2024-06-20",
    })  # fmt: skip
    result = cli("check", env=good_env)
    assert result.exit_code == 0, result.output  # a warning: the events are still processed
    line = next(x for x in result.stdout.splitlines() if "https://shop.test/old" in x)
    assert line.startswith("! ")
    assert f"API version 2024-06-20, but the kit speaks {stripe.api_version}" in line
    assert "second endpoint" in line and "STRIPEKIT_API_VERSION=2024-06-20" in line

    # Told to speak the endpoint's version, the kit agrees with it.
    agreed = cli("check", env={**good_env, "STRIPEKIT_API_VERSION": "2024-06-20"})
    assert "✓ webhook endpoint" in agreed.stdout and "(STRIPEKIT_API_VERSION)" in agreed.stdout


def test_check_an_endpoint_on_the_accounts_default_version(
    cli: Runner, good_env: dict[str, str], stripe_api: stripe.StripeClient
) -> None:
    stripe_api.v1.webhook_endpoints.create({"url": "https://shop.test/w", "enabled_events": ["*"]})
    result = cli("check", env=good_env)
    assert result.exit_code == 0, result.output
    assert "account's default API version" in result.stdout


def test_check_compares_only_the_endpoint_of_url(
    cli: Runner, good_env: dict[str, str], stripe_emulator: RunningEmulator
) -> None:
    stripe_emulator.add_webhook_endpoint("https://elsewhere.test/hook", api_version="2024-06-20")
    result = cli("check", env=good_env)
    assert "no webhook endpoint to compare" not in result.stdout
    only = cli("check", "--url", "http://127.0.0.1:9/nothing", env=good_env)
    assert "elsewhere.test" not in only.stdout
    assert "no webhook endpoint for http://127.0.0.1:9/nothing to compare" in only.stdout


def test_a_bad_api_version_setting_is_refused(cli: Runner, good_env: dict[str, str]) -> None:
    result = cli("check", env={**good_env, "STRIPEKIT_API_VERSION": "latest"})
    assert result.exit_code == 1
    assert "STRIPEKIT_API_VERSION: 'latest' is not a Stripe API version" in result.stdout
