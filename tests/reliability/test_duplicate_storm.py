"""A storm of duplicates: 1,000 deliveries of 100 events, from 50 connections at once.

Stripe may deliver an event more than once, and several copies may arrive
together (a retry overlapping a slow first delivery, a backlog after an
outage). Whatever the interleaving, each event's handler runs exactly once:
the store's claim lets one delivery run it, answers the others 200
(duplicate) or 409 (in flight, so Stripe retries), and never both run.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from webhook_server import Server, count_rows, raw_request, send_all, signed_delivery

pytestmark = pytest.mark.reliability

DISTINCT = 100
COPIES = 10
CONNECTIONS = 50


async def test_every_handler_runs_exactly_once(
    database_url: str, servers: list[Server], tmp_path: Path
) -> None:
    server = Server(database_url, tmp_path / "server.log").start()
    servers.append(server)
    ids = [f"evt_storm_{n:03d}" for n in range(DISTINCT)]
    deliveries = [event_id for event_id in ids for _ in range(COPIES)]
    random.Random(7).shuffle(deliveries)
    requests = {event_id: raw_request(*signed_delivery(event_id)) for event_id in ids}
    answered = await send_all(server.port, [(i, requests[i]) for i in deliveries], CONNECTIONS)
    answers = Counter(status for _, status in answered)
    assert sum(answers.values()) == DISTINCT * COPIES
    assert set(answers) <= {200, 409}, answers
    # What Stripe does with a 409: deliver it again, later.
    again = [(event_id, requests[event_id]) for event_id, status in answered if status == 409]
    assert {status for _, status in await send_all(server.port, again, 1)} <= {200}
    assert count_rows(database_url, "runs") == dict.fromkeys(ids, 1)
