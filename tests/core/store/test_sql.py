"""SQLEventStore: schema and migrations, engines and URLs, errors that hide the password."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest
from open_connections import sqlite_connections, still_open
from queue_harness import wait_until
from sqlalchemy import create_engine, inspect, text

from stripekit import (
    ClaimOutcome,
    ConfigurationError,
    EventStatus,
    EventStoreError,
    SQLEventStore,
)
from stripekit.store._sql_schema import SCHEMA_VERSION

LEASE = 30.0


def versions(store):
    table = f"{store._tables.prefix}schema_version"
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text(f"SELECT version FROM {table}"))]


def everything_said(exc):
    """The messages and reprs of an exception and of every exception shown with it."""
    said = []
    while exc is not None:
        said += [str(exc), repr(exc)]
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n".join(said)


# -- schema --


def test_tables_are_made_on_first_use(make_sql_store, make_event):
    store = make_sql_store()
    assert store.claim(make_event("evt_1"), lease=LEASE).outcome is ClaimOutcome.NEW

    prefix = store._tables.prefix
    inspector = inspect(store.engine)
    assert {f"{prefix}events", f"{prefix}schema_version"} <= set(inspector.get_table_names())
    assert inspector.get_pk_constraint(f"{prefix}events")["constrained_columns"] == ["id"]
    indexed = {tuple(index["column_names"]) for index in inspector.get_indexes(f"{prefix}events")}
    assert {("status",), ("type",), ("received_at",)} <= indexed
    assert versions(store) == list(range(1, SCHEMA_VERSION + 1))


def test_migrate_twice_is_a_no_op(make_sql_store, make_event):
    store = make_sql_store()
    assert store.migrate() == SCHEMA_VERSION
    store.claim(make_event("evt_1"), lease=LEASE)

    assert store.migrate() == SCHEMA_VERSION
    assert make_sql_store().migrate() == SCHEMA_VERSION

    assert versions(store) == list(range(1, SCHEMA_VERSION + 1))
    assert store.get("evt_1").status is EventStatus.PROCESSING


def test_stores_starting_at_once_migrate_once(make_sql_store, make_event):
    stores = [make_sql_store() for _ in range(8)]
    barrier = threading.Barrier(len(stores))

    def start(store):
        barrier.wait()
        return store.migrate()

    with ThreadPoolExecutor(len(stores)) as pool:
        assert list(pool.map(start, stores)) == [SCHEMA_VERSION] * len(stores)
    assert versions(stores[0]) == list(range(1, SCHEMA_VERSION + 1))


def test_two_stores_share_the_events(make_sql_store, make_event):
    first, second = make_sql_store(), make_sql_store()
    event = make_event("evt_1")

    claim = first.claim(event, lease=LEASE)
    assert second.claim(event, lease=LEASE).outcome is ClaimOutcome.IN_FLIGHT
    assert second.complete("evt_1", claim.token, status=EventStatus.PROCESSED) is True
    assert first.claim(event, lease=LEASE).outcome is ClaimOutcome.DUPLICATE
    assert [e.id for e in second.list()] == ["evt_1"]


def test_claims_race_across_stores(make_sql_store, make_event):
    stores = [make_sql_store(engine_options={"pool_size": 10}) for _ in range(5)]
    stores[0].migrate()
    event = make_event("evt_1")
    barrier = threading.Barrier(25)

    def claim(store):
        barrier.wait()
        return store.claim(event, lease=LEASE).outcome

    with ThreadPoolExecutor(25) as pool:
        outcomes = list(pool.map(claim, stores * 5))
    assert outcomes.count(ClaimOutcome.NEW) == 1
    assert outcomes.count(ClaimOutcome.IN_FLIGHT) == 24


def _statements_of(store):
    """Every SQL statement the store's connections send from now on (the driver's own
    trace on SQLite, where the hot statements skip SQLAlchemy; SQLAlchemy's elsewhere)."""
    from sqlalchemy import event as sa_event

    seen: list[str] = []
    if store.engine.dialect.name == "sqlite":
        sa_event.listen(store.engine, "connect",
                        lambda dbapi, _: dbapi.set_trace_callback(seen.append))  # fmt: skip
    else:
        sa_event.listen(store.engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *args: seen.append(statement))  # fmt: skip
    return seen


def _writes_and_reads(statements):
    return [s.split()[0].upper() for s in statements if s.split()[0].upper() in
            ("INSERT", "UPDATE", "SELECT", "DELETE")]  # fmt: skip


def test_a_duplicate_costs_one_read_and_no_update(make_sql_store, make_event, clock):
    """A duplicate storm's deliveries, of a finished event or of one a live process holds,
    are answered after the INSERT that found the id and one read: the UPDATEs that take
    an event over would refuse them anyway (their outcomes: test_stores.py)."""
    store = make_sql_store()
    seen = _statements_of(store)
    finished, held = make_event("evt_done"), make_event("evt_held")
    store.complete("evt_done", store.claim(finished, lease=LEASE).token,
                   status=EventStatus.PROCESSED)  # fmt: skip
    store.claim(held, lease=LEASE)

    seen.clear()
    assert store.claim(finished, lease=LEASE).outcome is ClaimOutcome.DUPLICATE
    assert store.claim(held, lease=LEASE).outcome is ClaimOutcome.IN_FLIGHT
    assert _writes_and_reads(seen) == ["INSERT", "SELECT", "INSERT", "SELECT"]

    # Once the lease has run out, the read lets the UPDATE take the event over.
    clock.advance(LEASE + 1)
    seen.clear()
    retry = store.claim(held, lease=LEASE)
    assert retry.outcome is ClaimOutcome.RETRY and retry.attempts == 2
    assert "UPDATE" in _writes_and_reads(seen)
    assert store.get("evt_held").status is EventStatus.PROCESSING


def test_newer_schema_is_refused(make_sql_store, make_event):
    store = make_sql_store()
    store.migrate()
    table = f"{store._tables.prefix}schema_version"
    with store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (version, applied_at) VALUES (99, '2030-01-01')"))

    newcomer = make_sql_store()
    with pytest.raises(EventStoreError, match=r"schema version 99.*upgrade") as info:
        newcomer.claim(make_event("evt_1"), lease=LEASE)
    assert f"knows up to version {SCHEMA_VERSION}" in str(info.value)
    with pytest.raises(EventStoreError, match="upgrade"):
        newcomer.migrate()


def test_changed_tables_give_an_event_store_error(make_sql_store, make_event):
    store = make_sql_store()
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {store._tables.prefix}events"))

    with pytest.raises(EventStoreError, match=r"failed.*changed by hand"):
        store.claim(make_event("evt_1"), lease=LEASE)


@pytest.mark.postgres
def test_insert_falls_back_on_the_primary_key_elsewhere(postgres_url, make_event):
    """On a dialect without ON CONFLICT, a refused INSERT (in a savepoint) means 'exists'."""
    from stripekit.store._sql_schema import build_tables, insert_new, new_row

    store = SQLEventStore(postgres_url, table_prefix="fallback_")
    store.migrate()
    events = build_tables("fallback_").events

    class OtherDialect:
        def __init__(self, conn):
            self._conn = conn
            self.dialect = type("Dialect", (), {"name": "otherdb"})()

        def __getattr__(self, name):
            return getattr(self._conn, name)

    try:
        row = new_row(make_event("evt_1"), store._now()) | {"attempts": 1}
        with store.engine.begin() as conn:
            assert insert_new(OtherDialect(conn), events, row) is True
            assert insert_new(OtherDialect(conn), events, row) is False
            # the failed insert rolled back to its savepoint, not the whole transaction
            assert conn.execute(text("SELECT count(*) FROM fallback_events")).scalar() == 1
    finally:
        with store.engine.begin() as conn:
            conn.execute(text("DROP TABLE fallback_events, fallback_schema_version"))
        store.close()


# -- engines and URLs --


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = SQLEventStore(f"sqlite:///{tmp_path / 'e.sqlite3'}")
    with store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_works(url, make_event):
    store = SQLEventStore(url)
    claim = store.claim(make_event("evt_1"), lease=LEASE)
    assert store.complete("evt_1", claim.token, status=EventStatus.PROCESSED)
    assert store.get("evt_1").status is EventStatus.PROCESSED
    store.close()


def test_default_url_is_a_sqlite_file():
    store = SQLEventStore()
    assert store.engine.url.render_as_string() == "sqlite:///stripekit.sqlite3"
    store.close()


def test_a_given_engine_is_used_and_left_open(tmp_path, make_event, monkeypatch):
    engine = create_engine(f"sqlite:///{tmp_path / 'own.sqlite3'}")
    disposed = []
    monkeypatch.setattr(engine, "dispose", lambda *a, **k: disposed.append(True))

    with SQLEventStore(engine, table_prefix="shop_") as store:
        store.claim(make_event("evt_1"), lease=LEASE)
        assert store.engine is engine
    assert disposed == []
    assert "shop_events" in inspect(engine).get_table_names()
    monkeypatch.undo()
    engine.dispose()  # the test's own engine: its to close


def test_own_engine_is_disposed_on_close(tmp_path, monkeypatch):
    store = SQLEventStore(f"sqlite:///{tmp_path / 'e.sqlite3'}")
    disposed = []
    monkeypatch.setattr(store.engine, "dispose", lambda *a, **k: disposed.append(True))
    store.close()
    assert disposed == [True]


def test_a_store_dropped_without_close_closes_its_connections(tmp_path, make_event):
    # Python 3.13 warns of each sqlite3 connection collected open: an app (or its tests)
    # that drops a store unclosed must not get one from the store's pool or writer.
    with sqlite_connections() as opened:
        store = SQLEventStore(f"sqlite:///{tmp_path / 'e.sqlite3'}")
        claim = store.claim(make_event("evt_1"), lease=LEASE)  # the writer's connection
        store.complete("evt_1", claim.token, status=EventStatus.PROCESSED)
        assert store.get("evt_1").status is EventStatus.PROCESSED  # a pooled one
    assert still_open(opened)  # the writer's connection, at least
    del store, claim
    gc.collect()
    assert still_open(opened) == []


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])  # FULL: every batch in a thread
async def test_an_async_store_dropped_without_close_closes_its_connections(
    tmp_path, make_event, monkeypatch, synchronous
):
    monkeypatch.setenv("STRIPEKIT_SQLITE_SYNCHRONOUS", synchronous)
    with sqlite_connections() as opened:
        store = SQLEventStore(f"sqlite:///{tmp_path / 'e.sqlite3'}")
        claim = await store.call_async(store.claim, make_event("evt_1"), lease=LEASE)
        await store.call_async(store.complete, "evt_1", claim.token, status=EventStatus.PROCESSED)
    writer_threads = [t for t in threading.enumerate() if t.name == "stripekit-store-writer"]
    assert still_open(opened)
    # The writer thread, if one ran a batch, holds nothing of the store between batches:
    # the store is collected once the thread has let go of the last one.
    dropped = weakref.ref(store)
    del store, claim
    wait_until(lambda: gc.collect() >= 0 and dropped() is None, "the dropped store collected")
    assert still_open(opened) == []
    for thread in writer_threads:  # told to stop when its store went
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.mark.parametrize(
    "url", ["postgresql://u:hunter2@db.example/shop", "postgres://u:hunter2@db.example/shop"]
)
def test_postgres_urls_use_psycopg(url):
    store = SQLEventStore(url)  # connects on first use only
    assert store.engine.url.drivername == "postgresql+psycopg"
    assert (
        repr(store)
        == "<SQLEventStore postgresql+psycopg://u:***@db.example/shop prefix='stripekit_'>"
    )
    assert "hunter2" not in repr(store)


def test_unreachable_server_is_an_event_store_error_without_the_password(make_event):
    store = SQLEventStore("postgresql://u:hunter2@127.0.0.1:1/x")

    with pytest.raises(EventStoreError) as info:
        store.claim(make_event("evt_1"), lease=LEASE)

    message = str(info.value)
    assert message.startswith(
        "cannot reach the event store database postgresql+psycopg://u:***@127.0.0.1:1/x"
    )
    assert "STRIPEKIT_DATABASE_URL" in message
    assert "hunter2" not in everything_said(info.value)
    store.close()


def test_unopenable_sqlite_file_is_an_event_store_error(tmp_path, make_event):
    store = SQLEventStore(f"sqlite:///{tmp_path / 'missing-dir' / 'e.sqlite3'}")
    with pytest.raises(EventStoreError, match=r"cannot open .*missing-dir.*folder exists"):
        store.get("evt_1")


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "postgresql://u:hunter2@db.example:port/shop",
        "://u:hunter2@db.example/shop",
    ],
)
def test_unparsable_url_is_a_configuration_error(url):
    with pytest.raises(ConfigurationError, match="not a database URL") as info:
        SQLEventStore(url)
    assert "hunter2" not in everything_said(info.value)


def test_unknown_dialect_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="no database dialect 'nosuchdb'") as info:
        SQLEventStore("nosuchdb://u:hunter2@db.example/shop")
    assert "hunter2" not in everything_said(info.value)


def test_missing_postgres_driver_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails

    with pytest.raises(ConfigurationError, match=r'pip install "stripekit\[postgres\]"') as info:
        SQLEventStore("postgresql://u:hunter2@db.example/shop")
    assert "hunter2" not in everything_said(info.value)


def test_missing_other_driver_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"driver .* is not installed") as info:
        SQLEventStore("mysql+mysqldb://u:hunter2@db.example/shop")
    assert "hunter2" not in everything_said(info.value)


@pytest.mark.parametrize("prefix", ["", "1x_", "bad-prefix", "x; drop table", "p" * 40])
def test_table_prefix_must_be_a_plain_name(prefix):
    with pytest.raises(ConfigurationError, match="table_prefix"):
        SQLEventStore("sqlite://", table_prefix=prefix)


def test_naive_clock_is_refused(make_event):
    from datetime import datetime

    store = SQLEventStore("sqlite://", clock=lambda: datetime(2024, 1, 1))
    with pytest.raises(EventStoreError, match="timezone-aware"):
        store.claim(make_event("evt_1"), lease=LEASE)


@pytest.mark.postgres
def test_only_the_claim_commits_without_waiting_for_the_disk(postgres_url, make_event):
    """The answer to Stripe follows complete()/fail(), whose commit waits for the WAL
    (the claim's records with it); the claim's own commit does not (half the flushes)."""
    import uuid

    from sqlalchemy import event as sa_event

    from stripekit import EventStatus, SQLEventStore

    store = SQLEventStore(postgres_url, table_prefix=f"t{uuid.uuid4().hex[:12]}_")
    store.migrate()
    seen: list[str] = []
    sa_event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: seen.append(statement))  # fmt: skip
    try:
        claim = store.claim(make_event("evt_async_commit"), lease=30)
        claimed, seen[:] = list(seen), []
        store.complete("evt_async_commit", claim.token, status=EventStatus.PROCESSED)
        completed = list(seen)
        with store.engine.connect() as conn:
            setting = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
    finally:
        store.close()

    assert claimed[0] == "SET LOCAL synchronous_commit TO OFF"
    assert not any("synchronous_commit" in statement for statement in completed)
    assert setting == "on"  # SET LOCAL ended with the claim's transaction
