"""kill -9 of the webhook server in the middle of a load: nothing acknowledged is lost.

The server is a uvicorn process with the SQL store (SQLite, then PostgreSQL).
Deliveries go at it from 16 connections; once a third of them are answered
2xx it is killed with SIGKILL. Then, before anything else runs, every event it
acknowledged must be recorded processed with its effect written once and its
handler run once. A new server is started and every event delivered again, as
Stripe would: the ones the dead server was holding are taken over at once (its
process is gone), and in the end each event has its effect exactly once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from webhook_server import Server, count_rows, raw_request, send_all, signed_delivery

from stripekit import EventStatus, SQLEventStore

pytestmark = pytest.mark.reliability

EVENTS = 1_500
CONNECTIONS = 16


def requests_for(ids: list[str]) -> list[tuple[str, bytes]]:
    return [(event_id, raw_request(*signed_delivery(event_id))) for event_id in ids]


async def test_nothing_acknowledged_is_lost_and_every_effect_happens_once(
    database_url: str, servers: list[Server], tmp_path: Path
) -> None:
    ids = [f"evt_kill_{n:04d}" for n in range(EVENTS)]
    first = Server(database_url, tmp_path / "server.log").start()
    servers.append(first)
    answers: list[tuple[str, int | None]] = []
    load = asyncio.ensure_future(send_all(first.port, requests_for(ids), CONNECTIONS, answers))
    while not load.done() and len(answers) < EVENTS // 3:
        await asyncio.sleep(0.005)
    first.kill()  # mid-load: a third of the events answered
    await load
    store = SQLEventStore(database_url)
    acknowledged = {event_id for event_id, status in answers if status == 200}
    assert EVENTS // 3 <= len(acknowledged) < EVENTS, "the kill came too late to be mid-load"

    # Before any redelivery: what the dead server acknowledged is all there.
    for event_id in acknowledged:
        stored = store.get(event_id)
        assert stored is not None and stored.status is EventStatus.PROCESSED, event_id
    effects, runs = count_rows(database_url, "effects"), count_rows(database_url, "runs")
    assert {effects.get(event_id) for event_id in acknowledged} == {1}
    assert {runs.get(event_id) for event_id in acknowledged} == {1}

    # A new server; Stripe delivers everything again until each is answered 2xx.
    second = Server(database_url, tmp_path / "server.log").start()
    servers.append(second)
    pending = ids
    for _ in range(3):
        answers = await send_all(second.port, requests_for(pending), CONNECTIONS)
        pending = sorted(event_id for event_id, status in answers if status != 200)
        if not pending:
            break
    assert pending == []  # no 409 left: the dead server's claims were taken over at once
    assert count_rows(database_url, "effects") == dict.fromkeys(ids, 1)
    assert {row.status for row in store.list(limit=EVENTS)} == {EventStatus.PROCESSED}
    runs = count_rows(database_url, "runs")
    assert {runs[event_id] for event_id in acknowledged} == {1}  # never run again
    store.close()
