"""``stripekit products sync|pull`` against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from cli_harness import Runner

import stripekit.catalog._sync
from stripekit import (
    Catalog,
    ConfigurationError,
    StripeAPIError,
    apply_sync,
    plan_sync,
    read_account,
)

SECRET_KEY = "sk_test_cli_products"

PRODUCTS = """
[products.pro]
name = "Pro"
description = "For growing teams"
mode = "subscription"
features = ["Unlimited projects"]

[[products.pro.prices]]
key = "monthly"
lookup_key = "pro_monthly"
amount = 1500
currency = "usd"
interval = "month"

[[products.pro.prices]]
key = "yearly"
lookup_key = "pro_yearly"
amount = 15000
currency = "usd"
interval = "year"

[products.credits]
name = "100 credits"
mode = "payment"

[[products.credits.prices]]
lookup_key = "credits_100"
amount = 900
currency = "eur"
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from stripekit.emulator import run_emulator

    with run_emulator() as running:
        yield running


@pytest.fixture
def env(emulator: Any) -> dict[str, str]:
    emulator.reset()
    return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": emulator.api_base}


@pytest.fixture
def client(env: dict[str, str]) -> stripe.StripeClient:
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": env["STRIPE_API_BASE"]}, max_network_retries=0
    )


@pytest.fixture
def products_file(tmp_path: Path) -> Path:
    path = tmp_path / "products.toml"
    path.write_text(PRODUCTS)
    return path


def sync(cli: Runner, env: dict[str, str], path: Path, *flags: str) -> Any:
    return cli("products", "sync", "--products", str(path), *flags, env=env)


def products(client: stripe.StripeClient, **params: Any) -> list[Any]:
    return list(client.v1.products.list({"limit": 100, **params}).auto_paging_iter())


def prices(client: stripe.StripeClient, **params: Any) -> list[Any]:
    return list(client.v1.prices.list({"limit": 100, **params}).auto_paging_iter())


def test_sync_from_empty_creates_everything_then_changes_nothing(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    first = sync(cli, env, products_file)
    assert first.exit_code == 0, first.output
    assert first.stdout.count("create product") == 2
    assert first.stdout.count("create price") == 3

    made = {p.metadata["stripekit_product"]: p for p in products(client)}
    assert set(made) == {"pro", "credits"}
    assert made["pro"].name == "Pro"
    assert [f.name for f in made["pro"].marketing_features] == ["Unlimited projects"]
    by_key = {p.lookup_key: p for p in prices(client, active=True)}
    assert set(by_key) == {"pro_monthly", "pro_yearly", "credits_100"}
    assert by_key["pro_yearly"].recurring.interval == "year"
    assert by_key["pro_yearly"].product == made["pro"].id
    assert by_key["credits_100"].unit_amount == 900

    again = sync(cli, env, products_file)
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.stdout
    assert len(prices(client)) == 3


def test_a_changed_amount_makes_a_new_price_and_moves_the_lookup_key(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    sync(cli, env, products_file)
    (old,) = prices(client, lookup_keys=["pro_monthly"], active=True)
    products_file.write_text(PRODUCTS.replace("amount = 1500", "amount = 1900"))

    result = sync(cli, env, products_file)

    assert result.exit_code == 0, result.output
    assert "new price" in result.stdout
    assert "amount: catalog 1900, Stripe 1500" in result.stdout
    (new,) = prices(client, lookup_keys=["pro_monthly"], active=True)
    assert new.id != old.id
    assert new.unit_amount == 1900
    old_now = client.v1.prices.retrieve(old.id)
    assert old_now.active is False
    assert old_now.lookup_key is None
    assert "nothing to do" in sync(cli, env, products_file).stdout


def test_a_dropped_product_is_kept_unless_archive(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    sync(cli, env, products_file)
    products_file.write_text(PRODUCTS[: PRODUCTS.index("[products.credits]")])

    kept = sync(cli, env, products_file)
    assert kept.exit_code == 0, kept.output
    assert "pass --archive" in kept.stdout
    assert "nothing to do" in kept.stdout
    assert {p.name for p in products(client, active=True)} == {"Pro", "100 credits"}

    archived = sync(cli, env, products_file, "--archive")
    assert archived.exit_code == 0, archived.output
    assert "archive product" in archived.stdout
    assert {p.name for p in products(client, active=True)} == {"Pro"}
    assert not prices(client, lookup_keys=["credits_100"], active=True)
    assert len(products(client)) == 2  # archived, never deleted


def test_an_unmanaged_product_is_listed_and_left_alone(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    legacy = client.v1.products.create({"name": "Legacy plan"})
    result = sync(cli, env, products_file, "--archive")
    assert result.exit_code == 0, result.output
    assert f"unmanaged {legacy.id} Legacy plan" in result.stdout
    now = client.v1.products.retrieve(legacy.id)
    assert now.active is True
    assert now.name == "Legacy plan"
    assert "stripekit_product" not in now.metadata


def test_dry_run_writes_nothing(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    result = sync(cli, env, products_file, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "create product" in result.stdout
    assert "nothing written" in result.stdout
    assert products(client) == []
    assert prices(client) == []


def test_a_failure_halfway_reports_and_a_rerun_finishes(
    cli: Runner,
    env: dict[str, str],
    client: stripe.StripeClient,
    products_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = stripekit.catalog._sync._apply_one
    calls: list[str] = []

    def flaky(client: Any, action: Any, product_ids: Any, account: Any) -> None:
        calls.append(action.kind.value)
        if len(calls) == 3:
            raise StripeAPIError("Stripe is having a moment", status=500, request_id="req_x")
        real(client, action, product_ids, account)

    monkeypatch.setattr(stripekit.catalog._sync, "_apply_one", flaky)
    broken = sync(cli, env, products_file)
    assert broken.exit_code == 1
    report = [
        line.split()[0]
        for line in broken.stdout.splitlines()
        if line[:4] in ("done", "fail", "not ")
    ]
    assert report == ["done", "done", "failed", "not", "not"]
    assert "Stripe is having a moment" in broken.stderr
    assert "Traceback" not in broken.output

    monkeypatch.setattr(stripekit.catalog._sync, "_apply_one", real)
    rerun = sync(cli, env, products_file)
    assert rerun.exit_code == 0, rerun.output
    # Only what was not done: pro's yearly price, then the credits product and its price.
    assert rerun.stdout.count("create product") == 1
    assert rerun.stdout.count("create price") == 2
    assert len(products(client)) == 2
    assert {p.lookup_key for p in prices(client, active=True)} == {
        "pro_monthly",
        "pro_yearly",
        "credits_100",
    }


def test_a_retried_apply_cannot_create_twins(
    env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    catalog = Catalog.load(products_file)
    plan = plan_sync(catalog, read_account(client, catalog))
    apply_sync(client, plan)
    apply_sync(client, plan)  # the same writes again, as after a lost answer
    assert len(products(client)) == 2
    assert len(prices(client)) == 3


# -- Connect: a connected account's catalog ---------------------------------------------------


def test_sync_into_a_connected_account_leaves_the_platform_and_the_others_alone(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    first, second = (client.v1.accounts.create({"type": "standard"}).id for _ in "ab")
    in_first: Any = {"stripe_account": first}
    made = sync(cli, env, products_file, "--account", first)
    assert made.exit_code == 0, made.output
    assert f"account {first}" in made.stdout
    assert made.stdout.count("create product") == 2 and made.stdout.count("create price") == 3
    # The products and prices are the connected account's; the platform and the other
    # connected account have none (each call went with Stripe-Account).
    by_key = {p.lookup_key: p for p in client.v1.prices.list({"limit": 100}, in_first).data}
    assert set(by_key) == {"pro_monthly", "pro_yearly", "credits_100"}
    assert products(client) == [] and prices(client) == []
    assert client.v1.products.list({}, {"stripe_account": second}).data == []
    again = sync(cli, env, products_file, "--account", first)
    assert again.exit_code == 0 and "nothing to do" in again.stdout, again.output

    # A changed amount replaces the price in that account: archived there, key moved.
    products_file.write_text(PRODUCTS.replace("amount = 1500", "amount = 1900"))
    moved = sync(cli, env, products_file, "--account", first)
    assert moved.exit_code == 0 and "new price" in moved.stdout, moved.output
    listed = client.v1.prices.list({"lookup_keys": ["pro_monthly"], "active": True}, in_first)
    (new,) = listed.data
    assert new.unit_amount == 1900
    old = client.v1.prices.retrieve(by_key["pro_monthly"].id, None, in_first)
    assert (old.active, old.lookup_key) == (False, None)

    # The platform's own sync is unaffected, and the second account gets its own objects.
    assert sync(cli, env, products_file).exit_code == 0
    assert sync(cli, env, products_file, "--account", second).exit_code == 0
    ids = [
        {p.id for p in client.v1.products.list({}, options).data}
        for options in ({}, in_first, {"stripe_account": second})
    ]
    assert all(len(found) == 2 for found in ids) and not (ids[0] & ids[1] or ids[1] & ids[2])


def test_the_kits_catalog_sync_in_a_connected_account(
    env: dict[str, str], client: stripe.StripeClient, products_file: Path
) -> None:
    account = client.v1.accounts.create({"type": "express"}).id
    catalog = Catalog.load(products_file)
    plan = plan_sync(catalog, read_account(client, catalog, stripe_account=account))
    assert plan.stripe_account == account
    apply_sync(client, plan)
    apply_sync(client, plan)  # retried: the same idempotent writes, no twins
    options: Any = {"stripe_account": account}
    assert len(client.v1.products.list({}, options).data) == 2
    assert len(client.v1.prices.list({}, options).data) == 3
    assert products(client) == []
    assert plan_sync(catalog, read_account(client, catalog, stripe_account=account)).in_sync
    with pytest.raises(ConfigurationError, match="acct_"):
        read_account(client, catalog, stripe_account="cus_123")


def test_sync_refuses_an_account_that_is_not_one(
    cli: Runner, env: dict[str, str], products_file: Path
) -> None:
    result = sync(cli, env, products_file, "--account", "acme")
    assert result.exit_code != 0
    assert "acct_" in result.output and "Traceback" not in result.output
    stranger = sync(cli, env, products_file, "--account", "acct_stranger")
    assert stranger.exit_code != 0 and "Traceback" not in stranger.output


def test_pull_then_sync_changes_nothing(
    cli: Runner, env: dict[str, str], client: stripe.StripeClient, tmp_path: Path
) -> None:
    hosting = client.v1.products.create(
        {"name": "Hosting", "description": "Managed hosting", "metadata": {"tier": "2"}}
    )
    client.v1.prices.create(
        {
            "product": hosting.id,
            "currency": "usd",
            "unit_amount": 2500,
            "recurring": {"interval": "month"},
            "lookup_key": "hosting_monthly",
        }
    )
    ebook = client.v1.products.create({"name": "The eBook"})
    client.v1.prices.create({"product": ebook.id, "currency": "gbp", "unit_amount": 1200})
    out = tmp_path / "pulled.toml"

    pulled = cli("products", "pull", "--out", str(out), env=env)

    assert pulled.exit_code == 0, pulled.output
    assert "no lookup key" in pulled.stderr  # the ebook's price gets a generated one
    catalog = Catalog.load(out)
    assert {p.key for p in catalog} == {"hosting", "the-ebook"}
    assert catalog.get("hosting").id == hosting.id
    assert catalog.get("hosting").mode == "subscription"
    assert catalog.get("the-ebook").default_price.amount == 1200

    first = sync(cli, env, out)
    assert first.exit_code == 0, first.output
    # Only the generated lookup key is written; then the file and Stripe agree.
    assert first.stdout.count("update price") == 1
    assert "create" not in first.stdout
    assert "nothing to do" in sync(cli, env, out).stdout

    refused = cli("products", "pull", "--out", str(out), env=env)
    assert refused.exit_code == 1
    assert "--force" in refused.stderr


def test_sync_errors_are_one_line(cli: Runner, env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(PRODUCTS.replace('interval = "year"', ""))
    cases = [
        (["--products", str(bad)], "field 'prices[1].interval'"),
        (["--products", str(tmp_path / "missing.toml")], "products file not found"),
        ([], "no products file"),
    ]
    for flags, message in cases:
        result = cli("products", "sync", *flags, env=env)
        assert result.exit_code == 1, result.output
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    no_key = cli("products", "sync", "--products", str(bad), env={})
    assert "STRIPE_SECRET_KEY is not set" in no_key.stderr
