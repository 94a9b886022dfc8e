"""The SQLite store on a bad day: a full disk, a read-only file, a WAL under sustained load."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from services import service_missing
from sqlalchemy import event as sa_event

from stripekit import (
    EventStatus,
    EventStoreError,
    SQLEventStore,
    WebhookProcessor,
    WebhookRegistry,
    parse_event,
)
from stripekit.store import _sqlite_writer
from stripekit.testing import sign_payload

SECRET = "whsec_faults"
PAD = "x" * 4000  # a realistic 4-5 KB event


def body(event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "invoice.paid",
            "created": 1_700_000_000,
            "livemode": False,
            "data": {"object": {"id": "in_1", "object": "invoice", "pad": PAD}},
        }
    ).encode()


def deliver(store: SQLEventStore, event_id: str) -> Any:
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=WebhookRegistry())
    raw = body(event_id)
    return processor.process(raw, {"Stripe-Signature": sign_payload(raw, SECRET)})


# -- a full disk ------------------------------------------------------------------------------


def test_a_full_disk_is_named_with_the_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.sqlite3"
    store = SQLEventStore(f"sqlite:///{path}")
    store.migrate()

    @sa_event.listens_for(store.engine, "connect")
    def no_room(dbapi_connection: Any, record: Any) -> None:
        # The file may not grow past its current pages: what a full disk looks like to SQLite.
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    store.engine.dispose()

    def fill() -> None:
        for number in range(200):
            store.claim(parse_event(body(f"evt_{number}")), lease=60)

    with pytest.raises(EventStoreError) as caught:
        fill()
    message = str(caught.value)
    assert f"the disk holding the event store database {path} is full" in message
    assert "cannot reach" not in message and "server is running" not in message
    caplog.set_level(logging.ERROR, "stripekit.webhooks")
    assert deliver(store, "evt_full").status == 503
    assert any("is full" in record.getMessage() for record in caplog.records)
    store.close()


# -- a file that was read-only when the store opened it --------------------------------------


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root (chattr +i), until the block ends."""
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)]).returncode != 0:
        service_missing("chattr +i is not available here (e2fsprogs on an ext4 file system)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_store_opened_read_only_recovers_once_the_file_is_writable(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with SQLEventStore(f"sqlite:///{path}") as first:
        assert deliver(first, "evt_before").status == 200
    store = SQLEventStore(f"sqlite:///{path}")
    try:
        with immutable(path):
            with pytest.raises(EventStoreError, match="is read-only"):
                store.claim(parse_event(body("evt_ro")), lease=60)
            assert deliver(store, "evt_ro").status == 503
        # Writable again: the very same store object records, without a restart.
        assert deliver(store, "evt_ro").status == 200
        assert deliver(store, "evt_after").status == 200
        assert {row.id for row in store.list()} == {"evt_before", "evt_ro", "evt_after"}
    finally:
        store.close()


async def test_the_async_path_recovers_too(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with SQLEventStore(f"sqlite:///{path}") as first:
        first.migrate()
    store = SQLEventStore(f"sqlite:///{path}")
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=WebhookRegistry())
    raw = body("evt_async_ro")
    headers = {"Stripe-Signature": sign_payload(raw, SECRET)}
    try:
        with immutable(path):
            assert (await processor.aprocess(raw, headers)).status == 503
        assert (await processor.aprocess(raw, headers)).status == 200
    finally:
        store.close()


# -- the WAL under sustained writes -----------------------------------------------------------


@contextmanager
def busy_readers(path: Path, count: int = 3) -> Iterator[None]:
    """Readers whose transactions overlap, so that some reader always holds the WAL:
    a passive checkpoint then never gets to start the WAL over."""
    stop = threading.Event()

    def read(offset: float) -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        time.sleep(offset)
        while not stop.is_set():
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM stripekit_events").fetchone()
            time.sleep(0.02)
            conn.execute("COMMIT")
        conn.close()

    threads = [threading.Thread(target=read, args=(n * 0.007,)) for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def test_the_wal_stays_bounded_under_sustained_async_writes(tmp_path: Path) -> None:
    # 10,000 events of 4 KB: without the truncating checkpoint the WAL passes 100 MB here.
    path = tmp_path / "events.sqlite3"
    store = SQLEventStore(f"sqlite:///{path}")
    store.migrate()
    peak = 0

    async def one(number: int) -> None:
        claim = await store.call_async(store.claim, parse_event(body(f"evt_{number}")), lease=60)
        await store.call_async(
            store.complete, f"evt_{number}", claim.token, status=EventStatus.PROCESSED
        )

    with busy_readers(path):
        for start in range(0, 10_000, 50):
            await asyncio.gather(*(one(n) for n in range(start, start + 50)))
            peak = max(peak, wal_bytes(path))
    assert _sqlite_writer.WAL_BOUND_BYTES <= 64 * 1024 * 1024  # what docs/store.md promises
    assert peak < _sqlite_writer.WAL_BOUND_BYTES, f"the WAL reached {peak / 1e6:.0f} MB"
    store.close()
    assert wal_bytes(path) == 0  # a clean close empties it
    with closing(sqlite3.connect(path)) as check:
        assert check.execute("SELECT count(*) FROM stripekit_events").fetchone()[0] == 10_000


def test_the_sync_path_keeps_it_bounded_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Smaller numbers, the same mechanism: a limit of 1 MB, checked every 100 writes.
    monkeypatch.setattr(_sqlite_writer, "WAL_LIMIT_BYTES", 1024 * 1024)
    monkeypatch.setattr(_sqlite_writer, "CHECKPOINT_EVERY", 100)
    path = tmp_path / "events.sqlite3"
    store = SQLEventStore(f"sqlite:///{path}")
    store.migrate()
    peak = 0
    with busy_readers(path):
        for number in range(1_500):
            claim = store.claim(parse_event(body(f"evt_{number}")), lease=60)
            store.complete(f"evt_{number}", claim.token, status=EventStatus.PROCESSED)
            peak = max(peak, wal_bytes(path))
    # The limit plus what 100 writes add (a few pages each) before the next check.
    assert peak < 4 * 1024 * 1024, f"the WAL reached {peak / 1e6:.1f} MB"
    store.close()
