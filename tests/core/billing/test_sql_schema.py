"""The SQL billing mirror's migrations: tables of an earlier schema upgrade in place."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from stripekit import SQLBillingStore, SQLEventStore
from stripekit.billing._sql import MIGRATIONS, _Tables
from stripekit.billing._store import Kind, Row


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def events(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLEventStore]:
    if request.param == "sqlite":
        url, prefix = f"sqlite:///{tmp_path / 'billing.sqlite3'}", "stripekit_"
    else:
        url, prefix = request.getfixturevalue("postgres_url"), f"t{uuid.uuid4().hex[:10]}_"
    store = SQLEventStore(url, table_prefix=prefix)
    yield store
    store.close()


def test_the_first_schema_gains_each_rows_account(events: SQLEventStore) -> None:
    prefix = f"{events._tables.prefix}billing_"
    first = _Tables(prefix, first=True)
    now = datetime.now(UTC)
    with events.engine.begin() as conn:  # what the mirror's first release left behind
        first.versions.create(conn)
        MIGRATIONS[0](conn, prefix)
        conn.execute(insert(first.versions).values(version=1, applied_at=now))
        subscriptions = first.objects[Kind.SUBSCRIPTION]
        assert "account" not in subscriptions.c
        conn.execute(
            insert(subscriptions).values(
                id="sub_old", version=5, event="evt_old", customer="cus_old", status="active",
                data={"items": []},
            )
        )  # fmt: skip
    billing = SQLBillingStore(events, table_prefix=prefix)
    assert billing.migrate() == len(MIGRATIONS) == 2
    assert billing.migrate() == 2  # current: nothing to do
    old = billing.run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_old"))
    assert (old.columns["status"], old.version, old.account) == ("active", 5, None)
    new = Row(Kind.SUBSCRIPTION, "sub_new", {"customer": "cus_c", "status": "trialing"},
              {}, 6, "evt_new", "acct_1")  # fmt: skip
    billing.run(lambda tx: tx.put(new))
    assert billing.run(lambda tx: tx.get(Kind.SUBSCRIPTION, "sub_new")).account == "acct_1"
