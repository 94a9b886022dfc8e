"""``stripekit events backfill``: what Stripe listed and the store lacks, run by the app's kit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from cli_harness import Runner

from stripekit.emulator import RunningEmulator

APP = """
from stripekit import StripeKit, WebhookRegistry

webhooks = WebhookRegistry()
paid = []


@webhooks.on("checkout.session.completed")
def fulfil(event):
    paid.append(event.object["id"])


kit = StripeKit(
    secret_key="sk_test_cli", webhook_secret="whsec_cli", webhooks=webhooks,
    api_base="{api_base}", database_url="{database_url}", billing=False,
)
"""


@pytest.fixture
def app(
    stripe_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    name = f"backfill_app_{abs(hash(str(tmp_path))):x}"
    database_url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    source = APP.replace("{api_base}", stripe_emulator.api_base)
    (tmp_path / f"{name}.py").write_text(source.replace("{database_url}", database_url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    module.spec = f"{name}:kit"
    yield module
    sys.modules.pop(name, None)


def _purchase(api_base: str) -> str:
    client = stripe.StripeClient("sk_test_cli", base_addresses={"api": api_base})
    price = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 500, "product_data": {"name": "Sticker"}}
    )
    session = client.v1.checkout.sessions.create({
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://shop.test/ok", "customer_email": "ada@example.com",
    })  # fmt: skip
    assert httpx.post(str(session.url), data={"card_number": "4242424242424242"}).is_redirect
    return session.id


def test_backfill_runs_the_missed_events_once(
    cli: Runner, app: Any, stripe_emulator: RunningEmulator
) -> None:
    session = _purchase(stripe_emulator.api_base)
    listed = len(stripe_emulator.events())
    first = cli("events", "backfill", "--since", "3d", "--app", app.spec)
    assert first.exit_code == 0, first.output
    assert f"{listed} event(s) listed, {listed} not recorded: {listed} processed" in first.stdout
    assert app.paid == [session]
    again = cli("events", "backfill", "--since", "90m", "--app", app.spec)
    assert again.exit_code == 0, again.output
    assert f"{listed} event(s) listed, 0 not recorded" in again.stdout
    assert app.paid == [session]


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("31d", "more than 30 days ago: Stripe's events list keeps only the last 30 days"),
        ("2001-01-01", "more than 30 days ago"),
        ("yesterday", "--since 'yesterday': give a time ago"),
    ],
)
def test_backfill_refuses_what_stripe_does_not_keep(
    cli: Runner, app: Any, since: str, message: str
) -> None:
    result = cli("events", "backfill", "--since", since, "--app", app.spec)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_backfill_needs_the_handlers(cli: Runner, app: Any) -> None:
    result = cli("events", "backfill", "--since", "1h")
    assert result.exit_code == 1
    assert "give --app module:attribute" in result.stderr
