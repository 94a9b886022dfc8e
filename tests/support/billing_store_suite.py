"""What every billing store must do, as tests: run them with a ``billing_store`` fixture.

``tests/core/billing/test_stores.py`` runs them on the memory, SQLite and
PostgreSQL stores; ``tests/django/test_billing_store.py`` on the Django one
(``from billing_store_suite import *``).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from stripekit.billing._store import ALL_ACCOUNTS, Kind, PutResult, Row, SpendOutcome


def sub(version: int, status: str = "active", event: str | None = None, **data: Any) -> Row:
    columns = {"customer": "cus_1", "status": status}
    return Row(Kind.SUBSCRIPTION, "sub_1", columns, {"items": [], **data}, version, event)


def test_put_writes_only_over_an_older_version(billing_store: Any) -> None:
    run = billing_store.run
    assert run(lambda tx: tx.put(sub(10, "incomplete", "evt_a"))) is PutResult.APPLIED
    assert run(lambda tx: tx.put(sub(20, "active", "evt_b"))) is PutResult.APPLIED
    assert run(lambda tx: tx.put(sub(15, "past_due", "evt_c"))) is PutResult.STALE
    assert run(lambda tx: tx.put(sub(20, "canceled", "evt_d"))) is PutResult.TIE
    assert run(lambda tx: tx.put(sub(20, "active", "evt_b"))) is PutResult.SAME
    stored = run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1"))
    assert (stored.columns["status"], stored.version, stored.event) == ("active", 20, "evt_b")
    # A tie is settled by a fetched object, put with allow_equal.
    assert run(lambda tx: tx.put(sub(20, "canceled", "evt_d"), allow_equal=True)) is (
        PutResult.APPLIED
    )
    assert run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1")).columns["status"] == "canceled"


def test_rows_keep_their_data_and_columns(billing_store: Any) -> None:
    items = [{"price": "price_1", "product": "pro", "quantity": 2}]
    row = sub(5, "trialing", "evt_x", items=items, trial_end=1_700_000_000)
    billing_store.run(lambda tx: tx.put(row))
    stored = billing_store.run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1"))
    assert stored.data["items"] == items and stored.data["trial_end"] == 1_700_000_000
    assert stored["status"] == "trialing" and stored["customer"] == "cus_1"
    assert billing_store.run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_nope")) is None


def test_replace_writes_whatever_the_version_and_keeps_the_higher(billing_store: Any) -> None:
    billing_store.run(lambda tx: tx.put(sub(30, "active", "evt_a")))
    billing_store.run(lambda tx: tx.replace(sub(0, "past_due")))
    stored = billing_store.run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1"))
    assert (stored.columns["status"], stored.version, stored.event) == ("past_due", 30, "evt_a")


def test_find_by_a_column(billing_store: Any) -> None:
    for number, intent in enumerate(["pi_1", "pi_2", "pi_1"]):
        columns = {"customer": None, "user_ref": "ada", "mode": "payment", "status": "paid",
                   "payment_intent": intent}  # fmt: skip
        row = Row(Kind.PURCHASE, f"cs_{number}", columns, {}, 1)
        billing_store.run(lambda tx, row=row: tx.put(row))
    found = billing_store.run(lambda tx: tx.find(Kind.PURCHASE, "payment_intent", ["pi_1"]))
    assert [row.id for row in found] == ["cs_0", "cs_2"]
    assert billing_store.run(lambda tx: tx.find(Kind.PURCHASE, "payment_intent", [])) == []


def test_a_customer_is_linked_to_its_first_user(billing_store: Any) -> None:
    run = billing_store.run
    assert run(lambda tx: tx.link("cus_1", "ada")) == "ada"
    assert run(lambda tx: tx.link("cus_1", "bob")) == "ada"  # the first link stays
    assert run(lambda tx: tx.link("cus_2", "ada")) == "ada"
    assert run(lambda tx: tx.user_of("cus_1")) == "ada"
    assert run(lambda tx: tx.user_of("cus_9")) is None
    assert run(lambda tx: tx.customers_of("ada")) == ["cus_2", "cus_1"]  # newest first
    # The customer's object, arriving later, does not undo the link.
    customer = Row(Kind.CUSTOMER, "cus_1", {"email": "a@b.c", "deleted": False}, {}, 7)
    assert run(lambda tx: tx.put(customer)) is PutResult.APPLIED
    assert run(lambda tx: tx.user_of("cus_1")) == "ada"
    assert run(lambda tx: tx.get(Kind.CUSTOMER, "cus_1")).columns["email"] == "a@b.c"


def test_grants_are_unique_by_source(billing_store: Any) -> None:
    run = billing_store.run
    assert run(lambda tx: tx.grant("user:ada", 50, "pack", "checkout:cs_1:pack"))
    assert not run(lambda tx: tx.grant("user:ada", 50, "pack", "checkout:cs_1:pack"))
    assert run(lambda tx: tx.grant("user:ada", 100, "pro", "invoice:in_1:pro"))
    assert run(lambda tx: tx.balance("user:ada")) == 150
    history = run(lambda tx: tx.history("user:ada", 10))
    assert [(e.amount, e.source) for e in history] == [
        (100, "invoice:in_1:pro"),
        (50, "checkout:cs_1:pack"),
    ]
    assert [e.source for e in run(lambda tx: tx.entries_from("checkout:cs_1:"))] == [
        "checkout:cs_1:pack"
    ]


def test_spends_never_go_below_zero_and_count_once_per_key(billing_store: Any) -> None:
    run = billing_store.run
    run(lambda tx: tx.grant("user:ada", 10, "grant", "g1"))
    assert run(lambda tx: tx.spend("user:ada", 7, "export", "k1")) is SpendOutcome.SPENT
    assert run(lambda tx: tx.spend("user:ada", 7, "export", "k1")) is SpendOutcome.DUPLICATE
    assert run(lambda tx: tx.spend("user:ada", 4, "export", "k2")) is SpendOutcome.INSUFFICIENT
    assert run(lambda tx: tx.balance("user:ada")) == 3
    # An insufficient spend left no trace: the same key may try again later.
    run(lambda tx: tx.grant("user:ada", 5, "grant", "g2"))
    assert run(lambda tx: tx.spend("user:ada", 4, "export", "k2")) is SpendOutcome.SPENT
    assert run(lambda tx: tx.balance("user:ada")) == 4
    assert run(lambda tx: tx.spend("user:bob", 1, "x", "k3")) is SpendOutcome.INSUFFICIENT


def test_take_back_stops_at_zero_and_once_per_source(billing_store: Any) -> None:
    run = billing_store.run
    run(lambda tx: tx.grant("user:ada", 10, "grant", "g1"))
    run(lambda tx: tx.spend("user:ada", 8, "spent", "k1"))
    assert run(lambda tx: tx.take_back("user:ada", 5, "refund", "clawback:cs:1")) == 2
    assert run(lambda tx: tx.take_back("user:ada", 5, "refund", "clawback:cs:1")) == 0
    assert run(lambda tx: tx.balance("user:ada")) == 0


def test_credits_move_to_the_user_once_linked(billing_store: Any) -> None:
    run = billing_store.run
    run(lambda tx: tx.grant("customer:cus_1", 30, "pack", "g1"))
    run(lambda tx: tx.grant("user:ada", 5, "welcome", "g2"))
    run(lambda tx: tx.move_credits("customer:cus_1", "user:ada"))
    assert run(lambda tx: tx.balance("user:ada")) == 35
    assert run(lambda tx: tx.balance("customer:cus_1")) == 0
    assert {e.source for e in run(lambda tx: tx.history("user:ada", 10))} == {"g1", "g2"}


def test_a_failing_transaction_leaves_nothing(billing_store: Any) -> None:
    def half_done(tx: Any) -> None:
        tx.put(sub(1, "active", "evt_a"))
        tx.grant("user:ada", 10, "grant", "g1")
        tx.link("cus_1", "ada")
        raise RuntimeError("the handler failed after writing")

    with pytest.raises(RuntimeError, match="after writing"):
        billing_store.run(half_done)
    assert billing_store.run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1")) is None
    assert billing_store.run(lambda tx: tx.balance("user:ada")) == 0
    assert billing_store.run(lambda tx: tx.user_of("cus_1")) is None


async def test_the_async_twin_runs_the_same_work(billing_store: Any) -> None:
    assert await billing_store.arun(lambda tx: tx.put(sub(3, "active", "e"))) is PutResult.APPLIED
    stored = await billing_store.arun(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1"))
    assert stored.columns["status"] == "active"


def test_concurrent_spends_take_exactly_the_balance(billing_store: Any) -> None:
    """50 spends of 1 at once against a balance of 10: exactly 10 succeed."""
    billing_store.run(lambda tx: tx.grant("user:ada", 10, "grant", "g1"))
    results: list[SpendOutcome] = []
    barrier = threading.Barrier(50)
    lock = threading.Lock()

    def spend(number: int) -> None:
        barrier.wait()
        outcome = billing_store.run(lambda tx: tx.spend("user:ada", 1, "go", f"k{number}"))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(SpendOutcome.SPENT) == 10
    assert results.count(SpendOutcome.INSUFFICIENT) == 40
    assert billing_store.run(lambda tx: tx.balance("user:ada")) == 0
    history = billing_store.run(lambda tx: tx.history("user:ada", 100))
    assert sum(entry.amount for entry in history) == 0 and len(history) == 11


# -- Connect: each row's account, each account's links --------------------------------------


def test_rows_keep_their_account(billing_store: Any) -> None:
    run = billing_store.run
    connected = Row(Kind.SUBSCRIPTION, "sub_c", {"customer": "cus_c", "status": "active"},
                    {}, 5, "evt_c", "acct_1")  # fmt: skip
    assert run(lambda tx: tx.put(connected)) is PutResult.APPLIED
    run(lambda tx: tx.put(sub(5, "active", "evt_p")))
    assert run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_c")).account == "acct_1"
    assert run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_1")).account is None
    found = run(lambda tx: tx.find(Kind.SUBSCRIPTION, "status", ["active"]))
    assert {(row.id, row.account) for row in found} == {("sub_c", "acct_1"), ("sub_1", None)}
    # A newer write keeps saying which account; replace (a repair, an operation's answer) too.
    newer = Row(Kind.SUBSCRIPTION, "sub_c", {"customer": "cus_c", "status": "past_due"},
                {}, 9, "evt_d", "acct_1")  # fmt: skip
    assert run(lambda tx: tx.put(newer)) is PutResult.APPLIED
    run(
        lambda tx: tx.replace(Row(Kind.SUBSCRIPTION, "sub_c", newer.columns, {}, 0, None, "acct_1"))
    )
    stored = run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_c"))
    assert (stored.columns["status"], stored.version, stored.account) == ("past_due", 9, "acct_1")


def test_links_are_kept_per_account(billing_store: Any) -> None:
    """The same user with a customer on the platform and on two connected accounts."""
    run = billing_store.run
    assert run(lambda tx: tx.link("cus_p", "ada")) == "ada"
    assert run(lambda tx: tx.link("cus_a", "ada", "acct_a")) == "ada"
    assert run(lambda tx: tx.link("cus_b", "ada", "acct_b")) == "ada"
    assert run(lambda tx: tx.customers_of("ada")) == ["cus_p"]  # the platform's by default
    assert run(lambda tx: tx.customers_of("ada", None)) == ["cus_p"]
    assert run(lambda tx: tx.customers_of("ada", "acct_a")) == ["cus_a"]
    assert run(lambda tx: tx.customers_of("ada", "acct_b")) == ["cus_b"]
    assert run(lambda tx: tx.customers_of("ada", "acct_zzz")) == []
    assert run(lambda tx: tx.customers_of("ada", ALL_ACCOUNTS)) == ["cus_b", "cus_a", "cus_p"]
    # The customer's object, arriving after its link, keeps it in its account.
    customer = Row(Kind.CUSTOMER, "cus_a", {"email": "a@b.c", "deleted": False}, {}, 7,
                   "evt_a", "acct_a")  # fmt: skip
    assert run(lambda tx: tx.put(customer)) is PutResult.APPLIED
    assert run(lambda tx: tx.customers_of("ada", "acct_a")) == ["cus_a"]
    assert run(lambda tx: tx.user_of("cus_a")) == "ada"
    # A second link of the same customer, whatever account it names, leaves the first.
    assert run(lambda tx: tx.link("cus_a", "bob", "acct_b")) == "ada"
    assert run(lambda tx: tx.customers_of("bob", ALL_ACCOUNTS)) == []


def test_a_customer_mirrored_before_its_link_is_linked_in_its_account(billing_store: Any) -> None:
    run = billing_store.run
    customer = Row(Kind.CUSTOMER, "cus_c", {"email": None, "deleted": False}, {}, 3,
                   "evt_c", "acct_c")  # fmt: skip
    run(lambda tx: tx.put(customer))
    assert run(lambda tx: tx.link("cus_c", "ada", "acct_c")) == "ada"
    assert run(lambda tx: tx.customers_of("ada", "acct_c")) == ["cus_c"]
    assert run(lambda tx: tx.customers_of("ada")) == []
