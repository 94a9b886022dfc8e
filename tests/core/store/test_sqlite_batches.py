"""The SQLite store's async path: writes batched per commit, on the loop when they need not wait."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, insert
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import sqlite as sqlite_dialect

from stripekit import EventStatus, SQLEventStore, StripeKit, WebhookRegistry
from stripekit._errors import EventStoreError
from stripekit.store import _holders as holders
from stripekit.store import _sql_batch as sql_batch
from stripekit.store import _sqlite_writer as sqlite_writer
from stripekit.store._holders import new_token
from stripekit.store._sql_direct import DirectStatement, driver_connection
from stripekit.store._sql_schema import UTCDateTime, insert_or_nothing, new_row, sqlite_datetime
from stripekit.store._sqlite_rows import ClaimInsert
from stripekit.testing import signed_event

LEASE = 300


@pytest.fixture
def store(tmp_path):
    with SQLEventStore(f"sqlite:///{tmp_path / 'events.sqlite3'}") as store:
        yield store


def count_commits(store: SQLEventStore) -> list[int]:
    commits: list[int] = []
    sa_event.listen(store.engine, "commit", lambda conn: commits.append(1))
    return commits


async def test_concurrent_claims_share_commits_and_all_are_recorded(store, make_event):
    store.migrate()
    commits = count_commits(store)
    events = [make_event(f"evt_{i}") for i in range(40)]

    claims = await asyncio.gather(*(store.call_async(store.claim, e, lease=LEASE) for e in events))

    assert [c.outcome.value for c in claims] == ["new"] * 40
    assert len({c.token for c in claims}) == 40
    assert 1 <= len(commits) < 40
    assert {s.id for s in store.list(limit=100)} == {e.id for e in events}


async def test_one_event_claimed_twice_in_one_batch_is_new_once(store, make_event):
    store.migrate()
    first, second = await asyncio.gather(
        store.call_async(store.claim, make_event("evt_1"), lease=LEASE),
        store.call_async(store.claim, make_event("evt_1"), lease=LEASE),
    )
    assert [first.outcome.value, second.outcome.value] == ["new", "in_flight"]
    assert await store.call_async(store.complete, "evt_1", first.token, status="processed")
    again = await store.call_async(store.claim, make_event("evt_1"), lease=LEASE)
    assert again.outcome.value == "duplicate"


async def test_a_failing_write_fails_alone(store, make_event):
    store.migrate()

    def broken() -> None:
        with store._transaction() as conn:
            conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    results = await asyncio.gather(
        store.call_async(store.claim, make_event("evt_1"), lease=LEASE),
        store.call_async(broken),
        store.call_async(store.claim, make_event("evt_2"), lease=LEASE),
        return_exceptions=True,
    )

    assert results[0].outcome.value == "new"
    assert isinstance(results[1], EventStoreError)
    assert "no_such_table" in str(results[1])
    assert results[2].outcome.value == "new"
    # Rolled back with the batch and run again alone: each claimed exactly once.
    assert {s.id: s.attempts for s in store.list()} == {"evt_1": 1, "evt_2": 1}


async def test_batches_run_on_the_loop_when_nothing_holds_the_lock(store):
    store.migrate()
    thread = await store.call_async(lambda: threading.current_thread().name)
    assert thread == threading.current_thread().name


async def test_with_synchronous_full_batches_never_run_on_the_loop(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIPEKIT_SQLITE_SYNCHRONOUS", "FULL")
    with SQLEventStore(f"sqlite:///{tmp_path / 'e.sqlite3'}") as store:
        thread = await store.call_async(lambda: threading.current_thread().name)
    assert thread == "stripekit-store-writer"


async def test_another_process_writing_does_not_block_the_loop(store, make_event, tmp_path):
    store.migrate()
    # Another process's writer: SQLite's write lock held by another connection.
    other = sqlite3.connect(
        tmp_path / "events.sqlite3", isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.5, other.commit)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    released.start()
    try:
        claim = await store.call_async(store.claim, make_event("evt_1"), lease=LEASE)
    finally:
        ticker.cancel()
        released.join()
        other.close()

    assert claim.outcome.value == "new"
    assert time.monotonic() - started >= 0.45  # it waited for the lock...
    assert ticks >= 20  # ...in the writer thread, while the loop went on


async def test_another_thread_writing_sends_the_batch_to_the_writer_thread(store):
    store.migrate()
    entered, leave = threading.Event(), threading.Event()

    def long_sync_write() -> None:
        with store._transaction():
            entered.set()
            leave.wait(5)

    holder = threading.Thread(target=long_sync_write)
    holder.start()
    entered.wait(5)
    try:
        waiting = asyncio.ensure_future(store.call_async(lambda: threading.current_thread().name))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # queued behind the other thread, the loop free
    finally:
        leave.set()
        holder.join()
    assert await waiting == "stripekit-store-writer"


def writer_thread_holds_the_lock(store: SQLEventStore) -> threading.Event:
    """The store's writer thread in a transaction until the returned event is set."""
    entered, leave = threading.Event(), threading.Event()

    def writer_thread_batch() -> None:
        with store._transaction():
            entered.set()
            leave.wait(5)

    store._writer.batch.in_thread(writer_thread_batch)
    assert entered.wait(5)
    return leave


async def test_a_batch_waits_on_the_loop_while_the_writer_thread_finishes(store, monkeypatch):
    """The writer thread holding the lock does not send the loop's batches there."""
    store.migrate()
    monkeypatch.setattr(sql_batch, "HOLD_LIMIT", 5.0)  # long: the thread's turn decides
    commits = count_commits(store)
    leave = writer_thread_holds_the_lock(store)
    loop_thread = threading.current_thread().name
    here = lambda: threading.current_thread().name  # noqa: E731
    first = asyncio.ensure_future(store.call_async(here))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(store.call_async(here))  # joins the waiting batch
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done()
    before = len(commits)
    leave.set()
    assert [await first, await second] == [loop_thread, loop_thread]
    assert len(commits) - before == 2  # the thread's, then one for both waiting writes


async def test_a_batch_the_writer_thread_keeps_past_the_hold_limit_goes_there(store, monkeypatch):
    store.migrate()
    monkeypatch.setattr(sql_batch, "HOLD_LIMIT", 0.05)
    leave = writer_thread_holds_the_lock(store)
    waiting = asyncio.ensure_future(store.call_async(lambda: threading.current_thread().name))
    await asyncio.sleep(0.2)  # past the limit: queued on the thread, behind its batch
    leave.set()
    assert await waiting == "stripekit-store-writer"


async def test_one_batch_on_the_writer_thread_does_not_draw_the_next_ones_there(
    store, make_event, tmp_path, monkeypatch
):
    """A batch that could not start at once (another process had SQLite's lock) runs
    on the writer thread; the batches that come while it runs still run on the loop."""
    store.migrate()
    monkeypatch.setattr(sql_batch, "HOLD_LIMIT", 5.0)
    other = sqlite3.connect(
        tmp_path / "events.sqlite3", isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.3, other.commit)
    released.start()
    try:
        to_thread = asyncio.ensure_future(
            store.call_async(store.claim, make_event("evt_0"), lease=LEASE)
        )
        await asyncio.sleep(0.05)
        where = lambda: threading.current_thread().name  # noqa: E731
        later = [asyncio.ensure_future(store.call_async(where)) for _ in range(3)]
        for _ in range(3):
            await asyncio.sleep(0.02)
            later.append(asyncio.ensure_future(store.call_async(where)))
        assert (await to_thread).outcome.value == "new"
        names = set(await asyncio.gather(*later))
    finally:
        released.join()
        other.close()
    assert names == {threading.current_thread().name}


async def test_the_wal_is_checkpointed_off_the_loop(store, make_event, tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_writer, "CHECKPOINT_EVERY", 10)
    store.migrate()
    database = tmp_path / "events.sqlite3"
    before = database.stat().st_size
    checkpointed: list[str] = []
    real = store._writer.checkpoint

    def checkpoint() -> None:
        checkpointed.append(threading.current_thread().name)
        real()

    monkeypatch.setattr(store._writer, "checkpoint", checkpoint)
    for i in range(30):
        big = make_event(f"evt_{i}", description="x" * 3000)
        await store.call_async(store.claim, big, lease=LEASE)
    store._writer.batch.close()  # waits for the checkpoints queued on the writer thread

    assert checkpointed and set(checkpointed) == {"stripekit-store-writer"}
    assert database.stat().st_size > before + 30 * 3000  # the events reached the file


def test_sync_writes_checkpoint_in_their_own_thread(store, make_event, tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_writer, "CHECKPOINT_EVERY", 5)
    database = tmp_path / "events.sqlite3"
    store.migrate()
    before = database.stat().st_size
    for i in range(10):
        store.claim(make_event(f"evt_{i}", description="x" * 3000), lease=LEASE)
    assert database.stat().st_size > before + 5 * 3000


async def test_the_writer_thread_restarts_after_close(store, make_event, monkeypatch):
    monkeypatch.setenv("STRIPEKIT_SQLITE_SYNCHRONOUS", "FULL")
    store.migrate()
    store.close()
    claim = await store.call_async(store.claim, make_event("evt_1"), lease=LEASE)
    assert claim.outcome.value == "new"


async def test_a_cancelled_caller_leaves_its_write_standing(store, make_event):
    store.migrate()
    task = asyncio.ensure_future(store.call_async(store.claim, make_event("evt_1"), lease=LEASE))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.call_async(store.get, "evt_1")  # the next batch, after the cancelled one
    assert store.get("evt_1").status is EventStatus.PROCESSING


async def test_the_kit_runs_a_handler_once_for_concurrent_redeliveries(tmp_path):
    webhooks = WebhookRegistry()
    ran: list[str] = []
    others_answered = asyncio.Event()

    @webhooks.on("invoice.paid")
    async def paid(event):
        # Hold the event until the four other copies have had their answer: they
        # arrive while it runs, however slow this machine is.
        await asyncio.wait_for(others_answered.wait(), 30)
        ran.append(event.id)

    kit = StripeKit(
        secret_key="sk_test_x",
        webhook_secret="whsec_test",
        webhooks=webhooks,
        database_url=f"sqlite:///{tmp_path / 'e.sqlite3'}",
    )
    body, headers = signed_event("invoice.paid", secret="whsec_test", id="evt_twice")
    copies = [asyncio.ensure_future(kit.ahandle_webhook(body, headers)) for _ in range(5)]
    while sum(copy.done() for copy in copies) < 4:
        await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    others_answered.set()
    results = await asyncio.gather(*copies)

    assert ran == ["evt_twice"]
    assert sorted(r.status for r in results) == [200, 409, 409, 409, 409]
    again = await kit.ahandle_webhook(body, headers)
    assert (again.status, again.outcome) == (200, "duplicate")
    kit.store.close()


def test_direct_statements_send_what_sqlalchemy_sends(store, make_event):
    store.migrate()
    sent: list[tuple[object, ...]] = []
    sa_event.listen(
        store.engine, "before_cursor_execute", lambda *args: sent.append(tuple(args[3]))
    )
    values = new_row(make_event("evt_1", account="acct_1"), store._now())
    values.update(token="t" * 32, lease_until=store._now(), attempts=1)
    statement = insert_or_nothing("sqlite", store._tables.events)
    direct = DirectStatement(statement, store.engine.dialect, values.keys())

    with store.engine.begin() as conn:
        conn.execute(insert(store._tables.events), values)

    assert sent[-1] == direct.parameters(values)
    assert direct.sql.startswith("INSERT INTO stripekit_events")
    assert "ON CONFLICT (id) DO NOTHING" in direct.sql


def test_direct_statements_need_positional_parameters():
    from sqlalchemy.dialects import postgresql

    from stripekit.store._sql_schema import build_tables

    events = build_tables("x_").events
    with pytest.raises(ValueError, match="positional"):
        DirectStatement(insert_or_nothing("postgresql", events), postgresql.dialect(), ["id"])


async def test_driver_errors_of_the_direct_path_are_event_store_errors(store, make_event):
    store.migrate()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE stripekit_events")
    with pytest.raises(EventStoreError, match="stripekit_"):
        await store.call_async(store.claim, make_event("evt_1"), lease=LEASE)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=UTC),  # microsecond 0: still written
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-8))),
        datetime(2024, 6, 1, 12, tzinfo=timezone(timedelta(0), "GMT")),
    ],
)
def test_sqlite_dates_bind_as_sqlalchemys_chain(moment):
    dialect = sqlite_dialect.dialect()
    # What SQLAlchemy's TypeDecorator chain writes: process_bind_param, then DATETIME's own.
    chain = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    expected = chain(UTCDateTime().process_bind_param(moment, dialect))
    assert UTCDateTime().dialect_impl(dialect).bind_processor(dialect)(moment) == expected
    assert sqlite_datetime(moment) == expected


def test_sqlite_dates_refuse_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        sqlite_datetime(datetime(2024, 1, 1))


def test_claim_tokens_are_unique_within_and_across_processes(monkeypatch):
    tokens = {new_token() for _ in range(10_000)}
    assert len(tokens) == 10_000
    assert all(len(token) == 32 and int(token, 16) >= 0 for token in tokens)
    # A forked child (another pid) draws a prefix of its own.
    monkeypatch.setattr(holders.os, "getpid", lambda: -1)
    child = new_token()
    assert child not in tokens and child[:16] not in {token[:16] for token in tokens}


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"livemode": True, "account": "acct_1"},
        {"created": 0},
        {"created": 253_402_300_799},
    ],
)
def test_claim_rows_are_what_sqlalchemy_binds(store, make_event, fields):
    store.migrate()
    event = make_event("evt_rows", **fields)
    now = datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=UTC)
    until = now + timedelta(seconds=LEASE)
    claim = ClaimInsert(store._tables.events, store.engine.dialect)
    values = new_row(event, now)
    values.update(token="t" * 32, lease_until=until, attempts=1, holder="host|b|n|1|2")
    # DirectStatement binds through SQLAlchemy's own processors (test above).
    expected = claim.direct.parameters(values)
    assert claim.parameters(event, now, "t" * 32, until, "host|b|n|1|2") == expected
    with store.engine.begin() as conn:
        assert claim.run(driver_connection(conn), event, now, "t" * 32, until, "h")
        assert not claim.run(driver_connection(conn), event, now, "u" * 32, until, "h")
    stored = store.get("evt_rows")
    assert stored is not None
    assert (stored.livemode, stored.account) == (event.livemode, event.account)
    assert (stored.created, stored.received_at) == (event.created, now)
    assert (stored.payload, stored.status, stored.attempts) == (event.raw, "processing", 1)


async def test_a_batch_past_the_deadline_is_a_503_and_its_late_claim_is_let_go(store, tmp_path):
    """The batch's future is waited for without cancelling it: when another process holds
    SQLite's write lock past the deadline, the delivery is answered 503, and the claim that
    commits once the lock is free is released at once (the redelivery processes it)."""
    from stripekit import WebhookProcessor

    store.migrate()
    processor = WebhookProcessor(secrets=["whsec_x"], store=store, registry=WebhookRegistry())
    processor.dispatcher.store_deadline = 0.2
    body, headers = signed_event("invoice.paid", secret="whsec_x", id="evt_late")
    other = sqlite3.connect(tmp_path / "events.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = await processor.aprocess(body, headers)
        assert result.status == 503
        assert "did not answer within 0.2 s" in str(result.error)
        # Still waiting for the lock (read on the lock holder's own connection: the
        # store's reads would queue behind the waiting batch).
        found = other.execute("SELECT count(*) FROM stripekit_events WHERE id = 'evt_late'")
        assert found.fetchone() == (0,)
    finally:
        other.commit()
        other.close()
    for _ in range(600):  # the writer thread's batch goes through once the lock is free
        row = store.get("evt_late")
        if row is not None and row.status is EventStatus.FAILED:
            break
        await asyncio.sleep(0.05)
    assert row is not None and "answered after 0.2 s, too late" in (row.last_error or "")
    again = await processor.aprocess(body, headers)
    assert (again.status, again.outcome) == (200, "unhandled")


def test_reads_answer_while_another_process_holds_the_write_lock(store, make_event, tmp_path):
    """get, list, backlog and sweepable read on connections of their own: in WAL mode a
    reader never waits for a writer, so the health route and the admin's lists answer while
    a batch waits for another process's write lock."""
    store.claim(make_event("evt_1"), lease=LEASE)
    other = sqlite3.connect(tmp_path / "events.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        # A write queued behind the other process's lock holds the store's writer.
        writing = threading.Thread(
            target=lambda: store.claim(make_event("evt_2"), lease=LEASE), daemon=True
        )
        writing.start()
        answers: list[object] = []

        def read() -> None:
            answers.append(store.get("evt_1"))
            answers.append(store.list())
            answers.append(store.backlog())
            answers.append(store.sweepable(grace=0, max_attempts=5))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(30)
        assert not reader.is_alive(), "a read waited for the write lock"
        # They answered while the lock was still held: the queued write had not gone in.
        assert writing.is_alive()
        stored, listed, backlog, _ = answers
        assert stored.status is EventStatus.PROCESSING
        assert [event.id for event in listed] == ["evt_1"]
        assert backlog[EventStatus.PROCESSING].count == 1
    finally:
        other.commit()
        other.close()
    writing.join(30)
    assert store.get("evt_2") is not None
