"""The ``stripekit`` command beside a Django project, and its ``manage.py`` twins.

In a Django project the command reads ``settings.STRIPEKIT`` and the project's
ORM event store; pointed at a Django database as a plain SQL store, it says where
the events are instead of creating tables of its own there.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Runner
from django.core.management import ManagementUtility, call_command
from django.db import connection
from django.test import Client

from stripekit import EventStatus
from stripekit.testing import signed_event
from stripekit_django import get_kit

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_django_shop"
SETTINGS = "django_project.settings"


def deliver(client: Client, event_id: str, email: str) -> int:
    session = {"id": f"cs_{event_id}", "object": "checkout.session", "customer_email": email}
    body, headers = signed_event("checkout.session.completed", session, secret=SECRET, id=event_id)
    answer = client.post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )  # fmt: skip
    return int(answer.status_code)


@pytest.fixture
def history(stripekit_settings: Any, client: Client) -> None:
    """Two events in the project's database: one processed, one failed."""
    assert deliver(client, "evt_django_paid", "ada@example.com") == 200
    assert deliver(client, "evt_django_broken", "fail@example.com") == 500


@pytest.mark.parametrize(
    "how",
    [
        {"args": ["--django-settings", SETTINGS], "env": {}},
        {"args": [], "env": {"DJANGO_SETTINGS_MODULE": SETTINGS}},
    ],
    ids=["flag", "environment"],
)
def test_events_list_reads_the_django_event_store(history: None, how: dict[str, Any]) -> None:
    result = Runner()(*how["args"], "events", "list", env=how["env"])
    assert result.exit_code == 0, result.output
    assert "2 event(s) in the Django database" in result.stdout
    assert "evt_django_paid" in result.stdout and "evt_django_broken" in result.stdout
    assert "the warehouse is down" in result.stdout


def test_a_django_database_given_as_a_url_is_refused_and_left_alone(history: None) -> None:
    path = connection.settings_dict["NAME"]
    result = Runner()("events", "list", "--database-url", f"sqlite:///{path}")
    assert result.exit_code == 1
    assert "is a Django project's database" in result.stderr
    assert "--django-settings" in result.stderr
    with closing(sqlite3.connect(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "stripekit_webhook_event" in tables
    assert not any(name.startswith(("stripekit_events", "stripekit_schema")) for name in tables)


def test_check_uses_the_stripekit_settings(stripekit_settings: dict[str, Any]) -> None:
    result = Runner()("--django-settings", SETTINGS, "check")
    assert result.exit_code == 0, result.output
    assert f"API at {stripekit_settings['API_BASE']}" in result.stdout
    assert "products.toml: 2 product(s)" in result.stdout


def test_a_settings_module_that_does_not_load_is_one_line(tmp_path: Path) -> None:
    # A process of its own: this one has Django set up for the tests' project already.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "STRIPE"))}
    result = subprocess.run(
        [sys.executable, "-m", "stripekit.cli", "--django-settings", "no_such_project.settings",
         "events", "list"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: Django settings 'no_such_project.settings' do not")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_manage_py_stripekit_events(history: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("stripekit_events", "list", "--status", "failed")
    out = capsys.readouterr().out
    assert "evt_django_broken" in out and "evt_django_paid" not in out

    # Replay with the project's own handlers (no --app): it still fails, and says so.
    replay = ["manage.py", "stripekit_events", "replay", "evt_django_broken"]
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(replay).execute()
    assert exited.value.code == 1
    assert "the warehouse is down" in capsys.readouterr().out
    stored = get_kit().store.get("evt_django_broken")
    assert stored is not None and stored.status is EventStatus.FAILED and stored.attempts == 2


def test_manage_py_stripekit_events_sweep(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The project's own handlers (no --app); evt_django_broken has had one attempt.
    call_command("stripekit_events", "sweep", "--max-attempts", "1")
    assert "nothing to sweep" in capsys.readouterr().out
    sweep = ["manage.py", "stripekit_events", "sweep", "--max-attempts", "2"]
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(sweep).execute()
    assert exited.value.code == 1  # it failed again, and says so
    out = capsys.readouterr().out
    assert "evt_django_broken" in out and "1 failed" in out
    stored = get_kit().store.get("evt_django_broken")
    assert stored is not None and stored.status is EventStatus.FAILED and stored.attempts == 2


def test_manage_py_help_is_the_stripekit_commands(capsys: pytest.CaptureFixture[str]) -> None:
    ManagementUtility(["manage.py", "stripekit_products", "--help"]).execute()  # exits 0: returns
    out = capsys.readouterr().out
    assert "Usage: manage.py stripekit_products [OPTIONS] COMMAND" in out
    assert "sync" in out and "pull" in out


def test_manage_py_stripekit_products_and_check(
    stripekit_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("stripekit_products", "sync", "--dry-run")
    assert "Stripe matches" in capsys.readouterr().out  # the fixture synced them already
    call_command("stripekit_check")
    out = capsys.readouterr().out
    assert "✓ products file" in out and "✗" not in out


def test_manage_py_stripekit_events_backfill(
    stripekit_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Events the site never heard of (no endpoint) are run with the project's handlers."""
    import httpx
    import stripe

    client = stripe.StripeClient(
        stripekit_settings["SECRET_KEY"], base_addresses={"api": stripekit_settings["API_BASE"]}
    )
    price = client.v1.prices.create(
        {"currency": "usd", "unit_amount": 500, "product_data": {"name": "Sticker"}}
    )
    session = client.v1.checkout.sessions.create({
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://shop.test/ok", "customer_email": "ada@example.com",
    })  # fmt: skip
    assert httpx.post(str(session.url), data={"card_number": "4242424242424242"}).is_redirect
    events = client.v1.events.list({"limit": 100}).data
    call_command("stripekit_events", "backfill", "--since", "1h")
    out = capsys.readouterr().out
    assert f"{len(events)} event(s) listed, {len(events)} not recorded" in out
    store = get_kit().store
    completed = next(e for e in events if e.type == "checkout.session.completed")
    stored = store.get(completed.id)
    assert stored is not None and stored.status is EventStatus.PROCESSED

    call_command("stripekit_events", "backfill", "--since", "1h")
    assert f"{len(events)} event(s) listed, 0 not recorded" in capsys.readouterr().out
