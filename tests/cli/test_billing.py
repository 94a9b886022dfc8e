"""``stripekit billing sync``: the app's billing state repaired from the emulator, each change
printed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from billing_flows import SECRET_KEY, Flows, deliver, make_kit, write_products
from cli_harness import Runner
from sqlalchemy import create_engine, text

from stripekit import StripeKit
from stripekit.billing._store import Kind
from stripekit.emulator import RunningEmulator


@pytest.fixture
def flows(stripe_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Flows]:
    made = Flows(stripe_emulator, write_products(tmp_path))
    yield made
    made.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.sqlite3'}"


@pytest.fixture
def app_kit(stripe_emulator: RunningEmulator, tmp_path: Path, database_url: str) -> Iterator[Any]:
    """The app's kit, on its own database: its event store's tables exist."""
    kit = make_kit(stripe_emulator, write_products(tmp_path), store=database_url)
    kit.store.migrate()  # type: ignore[attr-defined]
    yield kit
    kit.store.close()  # type: ignore[attr-defined]


@pytest.fixture
def env(stripe_emulator: RunningEmulator, tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": stripe_emulator.api_base,
        "STRIPEKIT_PRODUCTS": str(tmp_path / "products.toml"),
        "STRIPEKIT_DATABASE_URL": database_url,
    }


def fresh(kit: StripeKit, database_url: str) -> StripeKit:
    """Another kit on the app's database: it reads what the command wrote."""
    return StripeKit(kit.settings, store=database_url)


def test_a_subscription_the_mirror_never_heard_of_is_added(
    flows: Flows, app_kit: StripeKit, env: dict[str, str], cli: Runner
) -> None:
    session = flows.checkout("42", "pro")  # no event reaches the app
    sub = flows.subscription_of(session)
    assert not app_kit.billing.is_subscribed("42")
    result = cli("billing", "sync", env=env)
    assert result.exit_code == 0, result.output
    assert f"subscription {sub}: new" in result.stdout.splitlines()
    assert f"purchase {session}: new" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith("✓ ")
    assert "change(s) to the billing state in sqlite:///" in result.stdout
    kit = fresh(app_kit, env["STRIPEKIT_DATABASE_URL"])
    assert kit.billing.is_subscribed("42", "pro")  # linked to its user through its metadata
    again = cli("billing", "sync", env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        f"✓ the billing state in {env['STRIPEKIT_DATABASE_URL']} matches Stripe"
    ]
    kit.store.close()  # type: ignore[attr-defined]


def test_a_wrong_status_is_repaired_and_the_change_printed(
    flows: Flows, app_kit: StripeKit, env: dict[str, str], cli: Runner
) -> None:
    sub = flows.subscription_of(flows.checkout("42", "pro"))
    for body, _ in flows.events:
        assert deliver(app_kit, body).status == 200
    assert app_kit.billing.is_subscribed("42", "pro")
    # What the events left out (the emulator sends no charge.* for an invoice's payment).
    assert cli("billing", "sync", env=env).exit_code == 0

    def wrong(tx: Any) -> None:
        # A status no event said, as a restored backup might hold.
        row = tx.get(Kind.SUBSCRIPTION, sub)
        tx.replace(dataclasses.replace(row, columns={**row.columns, "status": "past_due"}))

    app_kit.billing_store.run(wrong)
    result = cli("billing", "sync", "--user", "42", "--since", "1d", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"subscription {sub}: status: past_due → active",
        f"✓ 1 change(s) to the billing state of user 42 in {env['STRIPEKIT_DATABASE_URL']}",
    ]
    kit = fresh(app_kit, env["STRIPEKIT_DATABASE_URL"])
    assert kit.billing.subscriptions("42")[0].status == "active"
    kit.store.close()  # type: ignore[attr-defined]


def test_account_repairs_one_connected_account_only(
    flows: Flows, app_kit: StripeKit, env: dict[str, str], cli: Runner
) -> None:
    a, b = flows.connect()
    subs = {}
    for where in (a, b, None):
        subs[where] = flows.subscription_of(flows.checkout("42", "pro", account=where), where)
    for body, _ in flows.events:  # the platform's endpoint and the Connect endpoint's
        assert deliver(app_kit, body).status == 200
    for where in (a, b, None):
        assert app_kit.billing.is_subscribed("42", "pro", account=where)
    # What the events left out (no charge.* for an invoice's payment), in each account.
    for args in (["--account", a], ["--account", b], []):
        assert cli("billing", "sync", *args, env=env).exit_code == 0
    # A backup restored without the three subscriptions' rows.
    engine = create_engine(env["STRIPEKIT_DATABASE_URL"])
    with engine.begin() as conn:
        for sub in subs.values():
            conn.execute(text("DELETE FROM stripekit_billing_subscriptions WHERE id = :id"),
                         {"id": sub})  # fmt: skip
    engine.dispose()
    assert not any(app_kit.billing.is_subscribed("42", account=w) for w in (a, b, None))

    result = cli("billing", "sync", "--account", a, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"subscription {subs[a]}: new",
        f"✓ 1 change(s) to the billing state of account {a} in {env['STRIPEKIT_DATABASE_URL']}",
    ]
    kit = fresh(app_kit, env["STRIPEKIT_DATABASE_URL"])
    (back,) = kit.billing.subscriptions("42", account=a)
    assert (back.id, back.account, back.status) == (subs[a], a, "active")
    # b's and the platform's are still missing: only a was read.
    assert kit.billing.subscriptions("42", account=b) == []
    assert kit.billing.subscriptions("42") == []
    assert kit.billing.credits.balance("42", account=a) == 100  # not granted twice
    # One user in b: the customer the mirror links to them there.
    by_user = cli("billing", "sync", "--user", "42", "--account", b, env=env)
    assert by_user.exit_code == 0, by_user.output
    assert by_user.stdout.splitlines()[0] == f"subscription {subs[b]}: new"
    assert f"of user 42 in account {b} in " in by_user.stdout
    assert [s.account for s in kit.billing.subscriptions("42", account=b)] == [b]
    assert kit.billing.subscriptions("42") == []
    nobody = cli("billing", "sync", "--user", "43", "--account", a, env=env)
    assert nobody.exit_code == 1
    assert f"no customer is linked to user '43' in account {a}" in nobody.stderr
    kit.store.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "no customer is linked to user 'nobody' in the billing state"),
        (["--user", "42", "--customer", "cus_1"], "give --user or --customer, not both"),
        (["--customer", "42"], "--customer '42': give a Stripe customer id (cus_...)"),
        (["--since", "lately"], "--since 'lately': give a time ago"),
        (["--account", "acme"], "--account takes a connected account's id (acct_...), not 'acme'"),
        (["--account", "acct_"], "--account takes a connected account's id"),
    ],
)
def test_mistakes_are_one_line(
    args: list[str], message: str, app_kit: StripeKit, env: dict[str, str], cli: Runner
) -> None:
    result = cli("billing", "sync", *args, env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_database_with_no_events_is_refused(env: dict[str, str], cli: Runner) -> None:
    result = cli("billing", "sync", env={**env, "STRIPEKIT_DATABASE_URL": "memory://"})
    assert result.exit_code == 1
    assert "this command's own memory" in result.stderr
    result = cli("billing", "sync", env=env)  # no such file: no app has run here
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no event store at sqlite:///")


def test_the_billing_state_turned_off_or_no_key_is_one_line(
    app_kit: StripeKit, env: dict[str, str], cli: Runner
) -> None:
    off = cli("billing", "sync", env={**env, "STRIPEKIT_BILLING": "false"})
    assert off.exit_code == 1
    assert off.stderr.startswith("error: the billing state is off")
    no_key = cli("billing", "sync", env={**env, "STRIPE_SECRET_KEY": None})  # type: ignore[dict-item]
    assert no_key.exit_code == 1
    assert len(no_key.stderr.strip().splitlines()) == 1 and "STRIPE_SECRET_KEY" in no_key.stderr
