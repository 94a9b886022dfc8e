"""A claim whose worker died on this machine is taken over at once, not after the lease.

After a kill -9 (or an OOM kill) in the middle of a delivery, Stripe's retries
used to get 409 for the whole lease. Each claim now names its holder process;
a delivery that finds the holder gone takes the event over at once, on SQLite
and PostgreSQL (and the Django store, tested beside it), while a live holder,
or one on another machine, keeps its claim until the lease ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import MetaData, insert, update

from stripekit import ClaimOutcome, EventStatus, SQLEventStore
from stripekit.store import _holders
from stripekit.store._holders import current_holder, holder_is_gone
from stripekit.store._sql_schema import MIGRATIONS, SCHEMA_VERSION, _events_v1, build_tables

LEASE = 300  # long: every take-over below happens well before it ends

CLAIMER = """
import json, os, signal, sys
from stripekit import SQLEventStore, parse_event
store = SQLEventStore(sys.argv[1], table_prefix=sys.argv[2])
claim = store.claim(parse_event(sys.argv[3].encode()), lease=300)
print(claim.outcome.value, flush=True)
if sys.argv[4] == "die":
    os.kill(os.getpid(), signal.SIGKILL)  # mid-delivery: no completion, no cleanup
sys.stdin.read()  # else hold the claim until the test closes stdin
"""


def raw_event(event_id: str) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "invoice.paid",
            "created": 1_700_000_000,
            "livemode": False,
            "data": {"object": {"id": "in_1", "object": "invoice"}},
        }
    )


@contextmanager
def claimer(url: str, prefix: str, event_id: str, how: str) -> Iterator[subprocess.Popen[str]]:
    """Another process that claims ``event_id``, then dies (``die``) or holds it (``hold``)."""
    with subprocess.Popen(
        [sys.executable, "-c", CLAIMER, url, prefix, raw_event(event_id), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "new"
        try:
            yield process
        finally:
            process.kill()


def url_and_prefix(store: SQLEventStore) -> tuple[str, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    return url, store._tables.prefix


def test_a_worker_killed_mid_delivery_is_taken_over_at_once(
    make_sql_store: Callable[..., SQLEventStore], make_event: Callable[..., Any]
) -> None:
    store = make_sql_store()
    store.migrate()
    url, prefix = url_and_prefix(store)
    with claimer(url, prefix, "evt_1", "die") as dead:
        assert dead.wait() == -9
    claim = store.claim(make_event("evt_1"), lease=LEASE)
    assert (claim.outcome, claim.attempts) == (ClaimOutcome.RETRY, 2)
    assert store.complete("evt_1", claim.token, status=EventStatus.PROCESSED)
    assert store.get("evt_1").status is EventStatus.PROCESSED  # type: ignore[union-attr]


def test_a_live_worker_keeps_its_claim_until_it_dies(
    make_sql_store: Callable[..., SQLEventStore], make_event: Callable[..., Any]
) -> None:
    store = make_sql_store()
    store.migrate()
    url, prefix = url_and_prefix(store)
    with claimer(url, prefix, "evt_2", "hold"):
        assert store.claim(make_event("evt_2"), lease=LEASE).outcome is ClaimOutcome.IN_FLIGHT
        claim, row = store.claim_for_replay("evt_2", lease=LEASE)
        assert claim.outcome is ClaimOutcome.IN_FLIGHT and row is not None
    claim, _ = store.claim_for_replay("evt_2", lease=LEASE)
    assert claim.outcome is ClaimOutcome.RETRY  # replay takes over from the dead too


def test_a_holder_on_another_machine_keeps_its_claim(
    make_sql_store: Callable[..., SQLEventStore], make_event: Callable[..., Any]
) -> None:
    store = make_sql_store()
    assert store.claim(make_event("evt_3"), lease=LEASE).outcome is ClaimOutcome.NEW
    elsewhere = "other-host|" + "|".join(current_holder().split("|")[1:])
    events = store._tables.events
    with store.engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == "evt_3").values(holder=elsewhere))
    assert store.claim(make_event("evt_3"), lease=LEASE).outcome is ClaimOutcome.IN_FLIGHT


def test_tables_of_the_first_schema_upgrade_in_place(
    make_sql_store: Callable[..., SQLEventStore], make_event: Callable[..., Any]
) -> None:
    store = make_sql_store()
    prefix = store._tables.prefix
    versions = build_tables(prefix).versions
    with store.engine.begin() as conn:  # what stripekit 0.1.0 left behind
        versions.create(conn)
        MIGRATIONS[0](conn, prefix)
        conn.execute(insert(versions).values(version=1, applied_at=store._now()))
        first = _events_v1(MetaData(), prefix)
        conn.execute(
            insert(first).values(
                id="evt_old", type="invoice.paid", livemode=False, created=store._now(),
                received_at=store._now(), payload=b"{}", status="processed", attempts=1,
            )
        )  # fmt: skip
    assert store.migrate() == SCHEMA_VERSION == 2
    assert store.get("evt_old").status is EventStatus.PROCESSED  # type: ignore[union-attr]
    assert store.claim(make_event("evt_new"), lease=LEASE).outcome is ClaimOutcome.NEW


# -- telling a dead holder from a live one ------------------------------------------------


def test_this_process_is_alive() -> None:
    assert not holder_is_gone(current_holder())


def test_a_finished_process_is_gone() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from stripekit.store._holders import current_holder as h; print(h())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert holder_is_gone(done.stdout.strip())


def test_a_reused_pid_is_not_its_old_holder() -> None:
    host, boot, namespace, _, _ = current_holder().split("|")
    # Our own pid, as if recorded by an earlier process that had it: another start time.
    assert holder_is_gone("|".join([host, boot, namespace, str(os.getpid()), "1"]))


def test_a_reboot_ends_every_holder_of_the_machine() -> None:
    host, _, namespace, pid, started = current_holder().split("|")
    assert holder_is_gone("|".join([host, "another-boot", namespace, pid, started]))


@pytest.mark.parametrize(
    "holder",
    [None, "", "garbage", "other-host|b|ns|1|2", "a|b|c|d"],
)
def test_what_cannot_be_known_is_left_to_the_lease(holder: str | None) -> None:
    assert not holder_is_gone(holder)


def test_another_pid_namespace_is_another_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    host, boot, _, _, started = current_holder().split("|")
    other = "|".join([host, boot, "pid:[1]", "999999", started])
    assert not holder_is_gone(other)
    monkeypatch.setattr(_holders, "_cache", None)
    assert current_holder() == current_holder()  # recomputed, the same


def test_a_holder_killed_but_not_yet_reaped_is_gone() -> None:
    # A worker pool's process whose parent died with it stays a zombie until init reaps
    # it: its pid and start time are still there, but it will never finish the event.
    code = (
        "from stripekit.store._holders import current_holder; print(current_holder(), flush=True)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code + "; import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        holder = process.stdout.readline().strip()
        assert not holder_is_gone(holder)
        process.kill()
        # Not waited for yet: a zombie. Its state turns Z once the kill has landed.
        while _holders._state(process.pid) != "Z":
            os.sched_yield()
        assert holder_is_gone(holder)
    finally:
        process.kill()
        process.wait()
        process.stdin.close()  # type: ignore[union-attr]
        process.stdout.close()  # type: ignore[union-attr]
