"""Billing operations on a connected account's objects, against the emulator.

The emulator keeps accounts apart (an object of acct_A is a 404 under the
platform and under acct_B), so an operation that forgot ``Stripe-Account``
fails here as it would on Stripe. One user buys the same things on the platform
and on two connected accounts; each operation on one account's subscription or
purchase changes it there and leaves the other two alone, and the mirror keeps
the row in its account. Ownership still holds across accounts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from billing_flows import CARD, DECLINES_LATER, WEBHOOK_SECRET, Flows, feed, make_kit

from stripekit import (
    ALL_ACCOUNTS,
    BillingError,
    Catalog,
    ConfigurationError,
    StripeAPIError,
    StripeKit,
    UnknownBillingObjectError,
    apply_sync,
    plan_sync,
    read_account,
)
from stripekit.billing._account import AccountAction, account, run_action
from stripekit.emulator import RunningEmulator

Account = str | None


class ConnectFlows(Flows):
    """``Flows`` with two connected accounts, each with the catalog synced into it, and a
    Connect endpoint: the sink gets every account's events."""

    def __init__(self, emulator: RunningEmulator, products: Path) -> None:
        super().__init__(emulator, products)
        emulator.add_webhook_endpoint(self.sink.url, secret=WEBHOOK_SECRET, connect=True)
        self.accounts = [self.client.v1.accounts.create({"type": "standard"}).id for _ in "ab"]
        catalog = Catalog.load(products)
        for acct in self.accounts:
            state = read_account(self.client, catalog, stripe_account=acct)
            apply_sync(self.client, plan_sync(catalog, state))

    def buy(
        self, user: str, product: str, where: Account, *, price: str | None = None,
        card: str = CARD,
    ) -> str:  # fmt: skip
        """A checkout made by the kit in ``where`` and paid on the hosted page; its id."""
        session = self.kit.checkout.create(
            product, price=price, client_reference_id=user,
            customer_email=f"{user}@example.com", stripe_account=where,
        )  # fmt: skip
        form = {"card_number": card, "email": f"{user}@example.com", "name": user}
        assert httpx.post(str(session.url), data=form).status_code == 303
        self.settle()
        return str(session.id)

    def get(self, kind: str, object_id: str, where: Account) -> dict[str, Any]:
        """An object as the emulator has it in ``where``."""
        v1 = self.client.v1
        retrieve: Any = {
            "subscription": v1.subscriptions.retrieve,
            "invoice": v1.invoices.retrieve,
            "session": v1.checkout.sessions.retrieve,
            "payment_intent": v1.payment_intents.retrieve,
            "refund": v1.refunds.retrieve,
        }[kind]
        options = {"stripe_account": where} if where else {}
        return json.loads(json.dumps(retrieve(object_id, None, options).to_dict(), default=str))

    def price_id(self, lookup_key: str, where: Account) -> str:
        options: Any = {"stripe_account": where} if where else {}
        return str(self.client.v1.prices.list({"lookup_keys": [lookup_key]}, options).data[0].id)


@pytest.fixture
def connect(stripe_emulator: RunningEmulator, products: Path) -> Iterator[ConnectFlows]:
    played = ConnectFlows(stripe_emulator, products)
    yield played
    played.close()


@pytest.fixture(params=["memory", "sqlite"])
def kit(
    stripe_emulator: RunningEmulator, products: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StripeKit]:
    """A kit whose billing state is in memory or in a SQLite file."""
    store = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'kit.sqlite3'}"
    made = make_kit(stripe_emulator, products, store=store)
    yield made
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(made.aclose)


def subscription_state(connect: ConnectFlows, subs: dict[Account, str]) -> dict[Account, Any]:
    """Each account's subscription as the emulator has it: what an operation may change."""
    found = {}
    for where, sub in subs.items():
        current = connect.get("subscription", sub, where)
        price = current["items"]["data"][0]["price"]["id"]
        found[where] = (current["status"], current["cancel_at_period_end"], price)
    return found


def three_subscriptions(kit: StripeKit, connect: ConnectFlows, user: str) -> dict[Account, str]:
    """The user's Pro subscription on the platform and on each connected account."""
    subs: dict[Account, str] = {}
    for where in [None, *connect.accounts]:
        session = connect.buy(user, "pro", where)
        subs[where] = str(connect.get("session", session, where)["subscription"])
    feed(kit, connect)
    return subs


def test_each_subscription_operation_acts_in_the_subscriptions_own_account(
    kit: StripeKit, connect: ConnectFlows
) -> None:
    subs = three_subscriptions(kit, connect, "ada")
    acct_a, acct_b = connect.accounts
    sub = subs[acct_a]
    untouched = {where: s for where, s in subs.items() if where != acct_a}
    before = subscription_state(connect, untouched)

    cancelled = kit.billing.cancel(sub, user="ada")
    assert cancelled.cancel_at_period_end and cancelled.account == acct_a
    assert connect.get("subscription", sub, acct_a)["cancel_at_period_end"] is True
    # The answer is in the mirror at once, in its account, and the event agrees.
    (mirrored,) = kit.billing.subscriptions("ada", account=acct_a)
    assert (mirrored.id, mirrored.cancel_at_period_end) == (sub, True)
    assert feed(kit, connect) == ["customer.subscription.updated"]
    assert kit.billing.subscriptions("ada", account=acct_a)[0].cancel_at_period_end

    assert not kit.billing.resume(sub, user="ada").cancel_at_period_end
    assert connect.get("subscription", sub, acct_a)["cancel_at_period_end"] is False
    feed(kit, connect)

    # A plan change is priced in the account: its own Team price, not the platform's.
    connect.advance(10)
    feed(kit, connect)
    preview = kit.billing.preview_change(sub, "team", proration="always_invoice", user="ada")
    assert preview.proration > 0 and preview.proration_date is not None
    changed = kit.billing.change_plan(
        sub, "team", proration="always_invoice", proration_date=preview.proration_date, user="ada"
    )
    assert changed.products == ("team",) and changed.account == acct_a
    team_a = connect.price_id("bill_team_monthly", acct_a)
    assert team_a != connect.price_id("bill_team_monthly", None)
    current = connect.get("subscription", sub, acct_a)
    assert current["items"]["data"][0]["price"]["id"] == team_a
    invoice = connect.get("invoice", current["latest_invoice"], acct_a)
    assert invoice["amount_due"] == preview.amount_due
    feed(kit, connect)
    assert kit.billing.is_subscribed("ada", "team", account=acct_a)

    assert kit.billing.cancel_now(sub, user="ada").status == "canceled"
    assert connect.get("subscription", sub, acct_a)["status"] == "canceled"
    feed(kit, connect)
    assert not kit.billing.is_subscribed("ada", account=acct_a)

    # The platform's and the other account's subscriptions were never touched...
    after = subscription_state(connect, untouched)
    assert {w: (s[0], s[1], s[2]) for w, s in after.items()} == {
        w: ("active", False, s[2]) for w, s in before.items()
    }
    assert after[None][2] == before[None][2] and after[acct_b][2] == before[acct_b][2]
    # ...and the mirror still has each subscription in its own account.
    rows = kit.billing.subscriptions("ada", account=ALL_ACCOUNTS)
    assert sorted((s.id, s.account) for s in rows) == sorted((s, w) for w, s in subs.items())
    assert kit.billing.is_subscribed("ada", "pro") and kit.billing.is_subscribed(
        "ada", "pro", account=acct_b
    )


async def test_the_async_twins_act_in_the_account_too(
    stripe_emulator: RunningEmulator, products: Path, connect: ConnectFlows
) -> None:
    # A kit of its own, closed on this test's event loop (its async client lives there).
    kit = make_kit(stripe_emulator, products)
    try:
        subs = three_subscriptions(kit, connect, "bo")
        acct_b = connect.accounts[1]
        sub = subs[acct_b]
        assert (await kit.billing.acancel(sub, user="bo")).cancel_at_period_end
        assert not (await kit.billing.aresume(sub, user="bo")).cancel_at_period_end
        preview = await kit.billing.apreview_change(sub, "team", user="bo")
        changed = await kit.billing.achange_plan(
            sub, "team", proration_date=preview.proration_date, user="bo"
        )
        assert changed.products == ("team",) and changed.account == acct_b
        assert (await kit.billing.acancel_now(sub, user="bo")).status == "canceled"
        assert connect.get("subscription", sub, acct_b)["status"] == "canceled"
        assert connect.get("subscription", subs[None], None)["status"] == "active"
        session = connect.buy("bo", "book", acct_b)
        feed(kit, connect)
        refund = await kit.billing.arefund(session, user="bo")
        assert connect.get("refund", refund.id, acct_b)["amount"] == 1900
    finally:
        await kit.aclose()


def test_retry_a_connected_accounts_failed_renewal(kit: StripeKit, connect: ConnectFlows) -> None:
    acct_a = connect.accounts[0]
    session = connect.buy("cy", "pro", acct_a, price="trial", card=DECLINES_LATER)
    sub = str(connect.get("session", session, acct_a)["subscription"])
    connect.advance(8)  # the trial ends; the charge is declined
    feed(kit, connect)
    (state,) = kit.billing.subscriptions("cy", account=acct_a)
    assert (state.status, state.latest_invoice_status) == ("past_due", "open")
    invoice = state.latest_invoice
    assert invoice is not None
    assert kit.billing.retry_payment(invoice, user="cy") == "open"  # declined again
    with pytest.raises(UnknownBillingObjectError):
        kit.billing.retry_payment(invoice, user="mallory")
    # A new card in the connected account, then the retry goes through there.
    options: Any = {"stripe_account": acct_a}
    customer = connect.get("subscription", sub, acct_a)["customer"]
    card = connect.client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}, options)
    connect.client.v1.subscriptions.update(sub, {"default_payment_method": card.id}, options)
    assert kit.billing.retry_payment(invoice, user="cy") == "paid"
    assert connect.get("invoice", invoice, acct_a)["status"] == "paid"
    feed(kit, connect)
    (state,) = kit.billing.subscriptions("cy", account=acct_a)
    assert (state.status, state.latest_invoice_status, state.account) == ("active", "paid", acct_a)


def test_refunds_of_a_connected_accounts_purchases(kit: StripeKit, connect: ConnectFlows) -> None:
    acct_a = connect.accounts[0]
    bought = {where: connect.buy("di", "pack", where) for where in [None, *connect.accounts]}
    feed(kit, connect)
    session = bought[acct_a]
    part = kit.billing.refund(session, amount=400, user="di")
    assert connect.get("refund", part.id, acct_a)["amount"] == 400
    assert feed(kit, connect) == ["charge.refunded", "refund.created"]
    (purchase,) = kit.billing.purchases("di", account=acct_a)
    assert (purchase.refunded, purchase.account) == (400, acct_a)
    # By its payment intent: found in the mirror, refunded in its account.
    intent = connect.get("session", session, acct_a)["payment_intent"]
    with pytest.raises(UnknownBillingObjectError, match="of yours"):
        kit.billing.refund(intent, user="mallory")
    rest = kit.billing.refund(intent, user="di")
    assert (rest.amount, connect.get("refund", rest.id, acct_a)["amount"]) == (500, 500)
    feed(kit, connect)
    assert kit.billing.purchases("di", account=acct_a)[0].fully_refunded
    assert kit.billing.credits.balance("di", account=acct_a) == 0
    # The platform's and the other account's purchases kept their money and credits.
    for where in (None, connect.accounts[1]):
        (kept,) = kit.billing.purchases("di", account=where)
        assert (kept.refunded, kit.billing.credits.balance("di", account=where)) == (0, 50)
        intent = connect.get("session", bought[where], where)["payment_intent"]
        assert connect.get("payment_intent", intent, where)["status"] == "succeeded"


def test_a_stranger_and_the_wrong_account_are_refused_and_nothing_is_sent(
    kit: StripeKit, connect: ConnectFlows
) -> None:
    subs = three_subscriptions(kit, connect, "eve")
    acct_a, acct_b = connect.accounts
    sub = subs[acct_a]
    for call in (
        lambda: kit.billing.cancel(sub, user="mallory"),
        lambda: kit.billing.resume(sub, user="mallory"),
        lambda: kit.billing.change_plan(sub, "team", user="mallory"),
        lambda: kit.billing.preview_change(sub, "team", user="mallory"),
        # The user's own subscription, asked for in another account than its own.
        lambda: kit.billing.cancel(sub, user="eve", account=None),
        lambda: kit.billing.cancel(sub, user="eve", account=acct_b),
    ):
        with pytest.raises(UnknownBillingObjectError, match="of yours"):
            call()
    # Without a user (an admin), the wrong account says where the object is.
    with pytest.raises(UnknownBillingObjectError, match=f"is in account {acct_a}"):
        kit.billing.cancel_now(sub, account=acct_b)
    with pytest.raises(ConfigurationError, match="acct_"):
        kit.billing.cancel(sub, user="eve", account="cus_123")
    assert feed(kit, connect) == []  # no call reached Stripe
    assert connect.get("subscription", sub, acct_a)["cancel_at_period_end"] is False
    # Named in its own account, it goes.
    assert kit.billing.cancel(sub, user="eve", account=acct_a).cancel_at_period_end


def test_an_admin_acts_in_a_named_account_before_the_events_came(
    kit: StripeKit, connect: ConnectFlows
) -> None:
    acct_a = connect.accounts[0]
    session = connect.buy("fay", "pro", acct_a)
    sub = str(connect.get("session", session, acct_a)["subscription"])
    # The kit has had no event: the mirror cannot say where the subscription lives.
    with pytest.raises(StripeAPIError, match="No such subscription"):
        kit.billing.cancel(sub)  # the platform's, by default: not there
    cancelled = kit.billing.cancel(sub, account=acct_a)
    assert cancelled.cancel_at_period_end and cancelled.account == acct_a
    assert connect.get("subscription", sub, acct_a)["cancel_at_period_end"] is True
    feed(kit, connect)
    (mirrored,) = kit.billing.subscriptions("fay", account=acct_a)
    assert (mirrored.id, mirrored.cancel_at_period_end) == (sub, True)


def test_the_account_page_is_the_platforms_billing(kit: StripeKit, connect: ConnectFlows) -> None:
    subs = three_subscriptions(kit, connect, "gus")
    acct_a = connect.accounts[0]
    page = account(kit.billing, kit.catalog, "gus")
    assert [s.id for s in page.subscriptions] == [subs[None]]
    # A connected account's subscription posted to the page is a 404, and nothing is done.
    for name, data in (
        ("cancel", {"subscription": subs[acct_a]}),
        ("resume", {"subscription": subs[acct_a]}),
        ("preview-change", {"subscription": subs[acct_a], "plan": "team"}),
    ):
        with pytest.raises(UnknownBillingObjectError):
            run_action(
                kit.billing, AccountAction.parse(name, data), "gus",
                proration="create_prorations", secret="sk_test_billing", catalog=kit.catalog,
            )  # fmt: skip
    assert feed(kit, connect) == []
    assert connect.get("subscription", subs[acct_a], acct_a)["cancel_at_period_end"] is False
    # The platform's own, shown on the page, is acted on as before.
    done = run_action(
        kit.billing, AccountAction.parse("cancel", {"subscription": subs[None]}), "gus",
        proration="create_prorations", secret="sk_test_billing", catalog=kit.catalog,
    )  # fmt: skip
    assert done.notice == "cancel"
    assert connect.get("subscription", subs[None], None)["cancel_at_period_end"] is True
    with pytest.raises(BillingError, match="no cancel to undo"):
        kit.billing.resume(subs[acct_a], user="gus")
