"""Connect in the billing state: one user buying on the platform and on two connected accounts.

Against the emulator: each account makes its own customer for the user, the
mirror records each row's account, a checkout reuses only its own account's
customer, and queries read one account (the platform's by default) or all.
The same events delivered out of order and twice leave the same state.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import stripe
from billing_flows import CARD, SECRET_KEY, WEBHOOK_SECRET, deliver, make_kit, write_products
from webhook_sink import WebhookSink

from stripekit import (
    ALL_ACCOUNTS,
    Buyer,
    Catalog,
    ConfigurationError,
    StripeKit,
    apply_sync,
    plan_sync,
    read_account,
)
from stripekit.emulator import RunningEmulator
from stripekit.shop._views import CheckoutRequest, start_checkout

USER = "ada"


class Shop:
    """A platform selling the catalog itself and through two connected accounts."""

    def __init__(self, emulator: RunningEmulator, products: Path) -> None:
        self.emulator = emulator
        self.products = products
        self.sink = WebhookSink().__enter__()
        # The platform's own events, and its connected accounts' (a Connect endpoint).
        emulator.add_webhook_endpoint(self.sink.url, secret=WEBHOOK_SECRET)
        emulator.add_webhook_endpoint(self.sink.url, secret=WEBHOOK_SECRET, connect=True)
        self.client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": emulator.api_base})
        self.accounts = [self.client.v1.accounts.create({"type": "standard"}).id for _ in "ab"]
        catalog = Catalog.load(products)
        apply_sync(self.client, plan_sync(catalog, read_account(self.client, catalog)))
        for account in self.accounts:  # the pack, made in each connected account too
            self.client.v1.prices.create(
                {"currency": "usd", "unit_amount": 900, "lookup_key": "bill_pack",
                 "product_data": {"name": "Credit pack"}},
                {"stripe_account": account},
            )  # fmt: skip

    def close(self) -> None:
        self.sink.__exit__(None, None, None)

    def buy(self, kit: StripeKit, account: str | None) -> stripe.checkout.Session:
        """A signed-in buyer's checkout of a credit pack through the shop's own route logic."""
        session = start_checkout(
            kit, CheckoutRequest("pack"), Buyer(reference=USER, email="ada@example.com"),
            stripe_account=account,
        )  # fmt: skip
        form = {"card_number": CARD, "email": "ada@example.com", "name": "Ada"}
        assert httpx.post(str(session.url), data=form).status_code == 303
        self.emulator.wait_for_deliveries()
        return session

    def session(self, session_id: str, account: str | None) -> Any:
        options: Any = {"stripe_account": account} if account else {}
        return self.client.v1.checkout.sessions.retrieve(session_id, None, options)

    def events(self) -> list[bytes]:
        """Each event the emulator sent once, in the order it sent them."""
        seen: set[str] = set()
        found = []
        for received in self.sink.received:
            if received.event["id"] not in seen:
                seen.add(received.event["id"])
                found.append(received.body)
        return found


@pytest.fixture
def shop(stripe_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Shop]:
    made = Shop(stripe_emulator, write_products(tmp_path))
    yield made
    made.close()


@pytest.fixture(params=["memory", "sqlite"])
def kits(
    shop: Shop, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], StripeKit]]:
    """Fresh kits on the shop's emulator, each with a billing state of its own (in memory,
    or in a SQLite file of its own); closed after."""
    made: list[StripeKit] = []

    def make() -> StripeKit:
        store = "memory://"
        if request.param == "sqlite":
            store = f"sqlite:///{tmp_path / f'kit{len(made)}.sqlite3'}"
        made.append(make_kit(shop.emulator, shop.products, store=store))
        return made[-1]

    yield make
    with anyio.from_thread.start_blocking_portal() as portal:
        for kit in made:
            portal.call(kit.aclose)


def feed(kit: StripeKit, bodies: list[bytes]) -> None:
    for body in bodies:
        assert deliver(kit, body).status == 200


def state(kit: StripeKit, accounts: list[str | None]) -> dict[str | None, Any]:
    """What the billing state says of the user, account by account."""
    return {
        account: (
            kit.linked_customer(USER, account),
            sorted((p.id, p.customer, p.account, p.status) for p in
                   kit.billing.purchases(USER, account=account)),
            kit.billing.credits.balance(USER, account=account),
        )
        for account in accounts
    }  # fmt: skip


def test_one_user_three_accounts_three_customers_each_reused_in_its_own(
    shop: Shop, kits: Callable[[], StripeKit]
) -> None:
    kit = kits()
    accounts: list[str | None] = [None, *shop.accounts]
    first: dict[str | None, str] = {}
    for account in accounts:
        assert kit.linked_customer(USER, account) is None  # nothing bought there yet
        session = shop.buy(kit, account)
        feed(kit, shop.events())
        first[account] = str(shop.session(session.id, account).customer)
    # Three customers, one per account, each linked in its own account only.
    assert len(set(first.values())) == 3
    assert {a: kit.linked_customer(USER, a) for a in accounts} == first
    for account in accounts:
        (bought,) = kit.billing.purchases(USER, account=account)
        assert (bought.customer, bought.account, bought.status) == (first[account], account, "paid")
        assert kit.billing.credits.balance(USER, account=account) == 50
        assert kit.billing.has_purchased(USER, "pack", account=account)
    everywhere = kit.billing.purchases(USER, account=ALL_ACCOUNTS)
    assert sorted(p.customer for p in everywhere) == sorted(first.values())
    assert not kit.billing.has_purchased(USER, "pack", account="acct_elsewhere")

    # A second checkout in each account reuses that account's customer, never another's.
    for account in accounts:
        session = shop.buy(kit, account)
        assert session.customer == first[account]
        feed(kit, shop.events())
    for account in accounts:
        assert kit.linked_customer(USER, account) == first[account]
        bought = kit.billing.purchases(USER, account=account)
        assert [p.customer for p in bought] == [first[account]] * 2
        assert kit.billing.credits.balance(USER, account=account) == 100
    # Spending is per account: one account's credits are not another's.
    assert kit.billing.credits.spend(USER, 100, "export", "job-1", account=shop.accounts[0])
    assert kit.billing.credits.spend(USER, 30, "export", "job-1", account=shop.accounts[1])
    assert kit.billing.credits.balance(USER, account=shop.accounts[0]) == 0
    assert kit.billing.credits.balance(USER, account=shop.accounts[1]) == 70
    assert kit.billing.credits.balance(USER) == 100


def test_out_of_order_and_duplicate_events_per_account_end_the_same(
    shop: Shop, kits: Callable[[], StripeKit]
) -> None:
    buyer_kit = kits()
    accounts: list[str | None] = [None, *shop.accounts]
    for _ in range(2):
        for account in accounts:
            shop.buy(buyer_kit, account)
            feed(buyer_kit, shop.events())  # so the second round reuses each customer
    bodies = shop.events()
    assert {json.loads(b).get("account") for b in bodies} == set(accounts)
    expected = state(buyer_kit, accounts)

    # Every event twice, the whole lot shuffled: accounts interleaved, older after newer.
    shuffled = bodies * 2
    random.Random(17).shuffle(shuffled)
    late = kits()
    feed(late, shuffled)
    assert state(late, accounts) == expected
    # And newest first, each delivered twice in a row.
    backwards = kits()
    feed(backwards, [body for body in reversed(bodies) for _ in range(2)])
    assert state(backwards, accounts) == expected


def test_a_query_names_an_account_it_understands(kits: Callable[[], StripeKit]) -> None:
    kit = kits()
    with pytest.raises(ConfigurationError, match="acct_"):
        kit.billing.purchases(USER, account="cus_123")
    with pytest.raises(ConfigurationError, match="one account's"):
        kit.billing.credits.balance(USER, account=ALL_ACCOUNTS)
    with pytest.raises(ConfigurationError, match="one account's"):
        kit.linked_customer(USER, ALL_ACCOUNTS)
