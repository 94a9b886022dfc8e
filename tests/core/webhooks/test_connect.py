"""Connect: a connected account's events are fetched from that account, its objects kept apart.

Against the emulator with two connected accounts: each object lives in the
account that made it (another account, or the platform, gets "No such ..."),
events about it carry ``"account"`` and go to the platform's Connect endpoints,
and the kit sends ``Stripe-Account`` for everything it does on their behalf.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import stripe
from kit_http import serving_webhooks

from stripekit import Catalog, StripeAPIError, StripeKit, WebhookRegistry
from stripekit.emulator import RunningEmulator

SECRET_KEY = "sk_test_connect"
WEBHOOK_SECRET = "whsec_connect"

PRODUCTS = """
[products.book]
name = "The Book"
mode = "payment"

[[products.book.prices]]
lookup_key = "connect_book"
amount = 1900
currency = "usd"
"""


class Platform:
    """A platform kit, two connected accounts selling the book, and the events the kit heard."""

    def __init__(self, emulator: RunningEmulator, folder: Path) -> None:
        self.emulator = emulator
        self.client = stripe.StripeClient(
            SECRET_KEY, base_addresses={"api": emulator.api_base}, max_network_retries=0
        )
        self.accounts = [
            self.client.v1.accounts.create({"type": "express"}).id,
            self.client.v1.accounts.create({"type": "standard"}).id,
        ]
        for account in self.accounts:
            self.client.v1.prices.create(
                {"currency": "usd", "unit_amount": 1900, "lookup_key": "connect_book",
                 "product_data": {"name": "The Book"}},
                {"stripe_account": account},
            )  # fmt: skip
        products = folder / "products.toml"
        products.write_text(PRODUCTS)
        self.fetched: dict[str, Any] = {}
        self.events: list[tuple[str, str | None]] = []
        webhooks = WebhookRegistry()

        @webhooks.on("checkout.session.completed")
        def fulfil(event: Any) -> None:
            # The session as it is now, from the account it lives in.
            self.fetched[event.object["id"]] = event.fetch_object()

        @webhooks.on("*")
        def every(event: Any) -> None:
            self.events.append((event.type, event.account))

        self.kit = StripeKit(
            secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, api_base=emulator.api_base,
            catalog=Catalog.load(products), store="memory://", webhooks=webhooks,
            base_url="http://shop.test",
        )  # fmt: skip

    def buy(self, account: str, user: str) -> str:
        session = self.kit.checkout.create(
            "book", client_reference_id=user, customer_email=f"{user}@example.com",
            stripe_account=account,
        )  # fmt: skip
        answer = httpx.post(str(session.url), data={"card_number": "4242424242424242"})
        assert answer.status_code == 303, answer.text[:300]
        return session.id


@pytest.fixture
def platform(stripe_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Platform]:
    made = Platform(stripe_emulator, tmp_path)
    try:
        with serving_webhooks(made.kit) as url:
            made.url = url  # type: ignore[attr-defined]
            yield made
    finally:
        with anyio.from_thread.start_blocking_portal() as portal:
            portal.call(made.kit.aclose)


def test_each_account_keeps_its_objects(platform: Platform) -> None:
    first, second = platform.accounts
    client = platform.client
    price = client.v1.prices.list({"lookup_keys": ["connect_book"]}, {"stripe_account": first})
    price_id = price.data[0].id
    assert client.v1.prices.retrieve(price_id, None, {"stripe_account": first}).id == price_id
    # The platform does not see it, nor does another connected account: "No such price".
    for options in ({}, {"stripe_account": second}):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client.v1.prices.retrieve(price_id, None, options)  # type: ignore[arg-type]
        assert missing.value.http_status == 404
        assert f"No such price: '{price_id}'" in str(missing.value.user_message)
    assert client.v1.prices.list({"lookup_keys": ["connect_book"]}).data == []
    # An account that is not the platform's: refused outright.
    with pytest.raises(stripe.PermissionError) as stranger:
        client.v1.prices.retrieve(price_id, None, {"stripe_account": "acct_stranger"})
    assert stranger.value.http_status == 403


def test_checkout_on_each_account_and_the_webhook_fetches_from_it(platform: Platform) -> None:
    platform.emulator.add_webhook_endpoint(platform.url, secret=WEBHOOK_SECRET, connect=True)  # type: ignore[attr-defined]
    first, second = platform.accounts
    sessions = {first: platform.buy(first, "ada"), second: platform.buy(second, "bob")}
    platform.emulator.wait_for_deliveries()

    # Every event the kit heard came from a connected account, and says which.
    assert platform.events and {account for _, account in platform.events} == {first, second}
    for account, session_id in sessions.items():
        fetched = platform.fetched[session_id]
        assert fetched.id == session_id and fetched.status == "complete"
        # The session is the account's: from the platform it is "No such ...".
        with pytest.raises(stripe.InvalidRequestError):
            platform.client.v1.checkout.sessions.retrieve(session_id)
        stored = platform.kit.store.get(
            next(
                e["id"]
                for e in platform.emulator.events()
                if e["data"]["object"]["id"] == session_id
                and e["type"] == "checkout.session.completed"
            )
        )
        assert stored is not None and stored.account == account

    # The billing state listed each purchase's lines from its own account.
    for user, account in (("ada", first), ("bob", second)):
        (purchase,) = platform.kit.billing.purchases(user, account=account)
        assert (purchase.id, purchase.account) == (sessions[account], account)
        assert [line.amount_total for line in purchase.lines] == [1900]
        assert platform.kit.billing.purchases(user) == []  # none on the platform's own


def test_the_platforms_own_endpoint_hears_only_the_platforms_events(
    platform: Platform,
) -> None:
    platform.emulator.add_webhook_endpoint(platform.url, secret=WEBHOOK_SECRET)  # type: ignore[attr-defined]
    platform.buy(platform.accounts[0], "ada")
    platform.emulator.wait_for_deliveries()
    assert platform.events == []
    assert all(e.get("account") == platform.accounts[0] for e in platform.emulator.events()[-3:])


def test_a_connected_event_fetched_without_its_account_fails_as_on_stripe(
    platform: Platform,
) -> None:
    """What the kit did before Connect support: the platform asks, Stripe says no such object."""
    session = platform.buy(platform.accounts[0], "ada")
    from stripekit._stripe_api import call_stripe

    client = platform.kit.client
    with pytest.raises(StripeAPIError) as missing:
        call_stripe(lambda: client.v1.checkout.sessions.retrieve(session))
    assert missing.value.status == 404


def test_the_portal_opens_for_a_connected_accounts_customer(platform: Platform) -> None:
    first, second = platform.accounts
    session = platform.buy(first, "ada")
    customer = str(
        platform.client.v1.checkout.sessions.retrieve(
            session, None, {"stripe_account": first}
        ).customer
    )
    url = platform.kit.portal.create(customer, stripe_account=first)
    assert url.startswith(platform.emulator.api_base)
    for account in (None, second):  # the customer is the first account's only
        with pytest.raises(StripeAPIError) as missing:
            platform.kit.portal.create(customer, stripe_account=account)
        assert missing.value.status == 404


def test_backfill_reads_a_connected_accounts_events(platform: Platform) -> None:
    from datetime import timedelta

    first = platform.accounts[0]
    session = platform.buy(first, "ada")
    assert platform.kit.backfill(since=timedelta(minutes=5)).seen == 0  # the platform's own
    report = platform.kit.backfill(since=timedelta(minutes=5), stripe_account=first)
    assert report.new == report.processed > 0
    assert platform.fetched[session].id == session
