"""Every task queue adapter against its real broker, deployed from docs/scale.md as written:
Celery (RabbitMQ and Redis), Dramatiq (RabbitMQ and Redis) and RQ (Redis).

Each test writes the page's ``tasks.py`` for its adapter into a project (queue_harness.Shop)
and runs it as a user would: the web app (the kit's FastAPI routes, uvicorn) and the
worker in processes of their own, configured from the environment the page names, signed
events posted over HTTP. A worker killed mid-way, the broker down at enqueue, the same
task delivered twice, a failing handler retried by the queue's own policy, duplicates
posted at once while the worker runs; and the page's Celery beat entry for the sweeper.
The event store and the handler's tables are in PostgreSQL
(tests/support/queue_handlers.py)."""

from __future__ import annotations

import functools
from collections import Counter

import pytest
from queue_harness import ADAPTERS, closed_port_url, counts, post, statuses, wait_until

from stripekit import EventStatus

pytestmark = pytest.mark.queues

EVENTS = 200


def answered(ids: list[str]) -> Counter[tuple[str, int | None]]:
    """Each delivery of ``ids`` answered 200."""
    return Counter((event_id, 200) for event_id in ids)


def test_a_worker_killed_mid_way_every_event_has_its_effect_once(shop, database):
    server = shop.server()
    ids = [f"evt_kill_{n:03}" for n in range(EVENTS)]
    # One handler hangs in the worker (its run counted, its effect not written): the kill
    # comes in the middle of it, whatever the machine's speed.
    stuck = ids[EVENTS // 3]
    assert Counter(post(server, ids, hang_first=[stuck])) == answered(ids)
    assert statuses(shop.kit) == {EventStatus.QUEUED: EVENTS}

    worker = shop.worker().start()
    # Its run counted: the handler is past the point where it hangs (its claim alone is
    # not enough: killed before the count, its next run would be the first, and hang).
    wait_until(
        lambda: (
            len(counts(database, "effects")) >= EVENTS // 4 and stuck in counts(database, "runs")
        ),
        "a quarter done, and the worker in the hanging handler",
        shop.logs,
    )
    worker.kill()
    held = {row.id for row in shop.kit.store.list(status=EventStatus.PROCESSING)}
    assert stuck in held and stuck not in counts(database, "effects")
    worker.start()
    state = functools.partial(statuses, shop.kit)
    if shop.adapter.redelivers:
        # The broker gives the dead worker's tasks to the new one, which takes their events
        # over from the dead holder (the stuck one's handler runs again, to the end): no
        # sweeper needed for them.
        wait_until(
            lambda: all(shop.kit.store.get(e).status is EventStatus.PROCESSED for e in held),
            f"the tasks of {sorted(held)} redelivered",
            shop.logs,
            state,
        )
    if shop.adapter.redelivers and not shop.adapter.loses_in_flight:
        done = lambda: state() == {EventStatus.PROCESSED: EVENTS}  # noqa: E731
    else:
        # The killed worker's tasks that the broker lost: RQ's (the job it ran, its event
        # left processing by a process that is gone, and any it had taken off the queue
        # but not started, their events still queued), or Celery-on-Redis's task in
        # flight. Those are the sweeper's, which runs beside the live worker as a
        # scheduler would: the store's claim decides.
        def done() -> bool:
            assert shop.kit.sweep(grace=0).ok
            return state() == {EventStatus.PROCESSED: EVENTS}

    wait_until(done, "all processed", shop.logs, state)

    effects, runs = counts(database, "effects"), counts(database, "runs")
    assert effects == {event_id: 1 for event_id in ids}
    # Only the handlers cut short by the kill ran twice (at most one per worker thread).
    assert set(runs) == set(ids)
    assert sum(runs.values()) - EVENTS <= shop.adapter.threads()


def test_broker_down_at_enqueue_the_sweeper_runs_the_events(shop, adapter, database):
    down = adapter.url(closed_port_url(adapter.scheme))
    server = shop.server(broker=down)
    ids = [f"evt_down_{n}" for n in range(5)]

    # Recorded, then answered 200 although the task could not be sent.
    assert Counter(post(server, ids)) == answered(ids)
    assert statuses(shop.kit) == {EventStatus.QUEUED: 5}
    assert "could not enqueue evt_down_0" in (shop.folder / "server.log").read_text()

    # The page's cron line, with the broker still down: the sweep runs the handlers itself.
    output = shop.sweep_command("--grace", "0", broker=down)
    assert "swept 5 event(s): 5 processed" in output
    assert counts(database, "effects") == {event_id: 1 for event_id in ids}
    assert shop.kit.sweep(grace=0).results == []


def test_a_task_delivered_twice_runs_once_and_a_failure_is_retried_by_the_queue(shop, database):
    server = shop.server()
    # Stripe's copies of an event that is still queued: each sends a task again.
    assert post(server, ["evt_twice"] * 3, connections=1) == [("evt_twice", 200)] * 3
    assert post(server, ["evt_fails"], fail_first=["evt_fails"]) == [("evt_fails", 200)]
    assert post(server, ["evt_last"]) == [("evt_last", 200)]

    # One thread, a FIFO queue: once evt_last ran, the three evt_twice tasks had run.
    shop.worker(threads=1).start()
    wait_until(lambda: "evt_last" in counts(database, "effects"), "evt_last ran", shop.logs)
    wait_until(
        lambda: shop.kit.store.get("evt_fails").status is EventStatus.PROCESSED,
        "the queue retried evt_fails",
        shop.logs,
    )

    runs = counts(database, "runs")
    assert runs["evt_twice"] == 1
    assert runs["evt_fails"] == 2
    retried = shop.kit.store.get("evt_fails")
    assert retried.attempts == 2
    assert "the warehouse API timed out" in retried.last_error  # the failure stays on record


def test_events_posted_while_the_worker_runs_each_have_their_effect_once(shop, database):
    shop.worker().start()
    server = shop.server()
    ids = [f"evt_http_{n:02}" for n in range(40)]
    # Each event twice, its two copies side by side: posted at once on two connections.
    copies = [event_id for event_id in ids for _ in range(2)]

    assert Counter(post(server, copies, connections=8)) == answered(copies)

    state = functools.partial(statuses, shop.kit)
    wait_until(
        lambda: state() == {EventStatus.PROCESSED: len(ids)}, "all processed", shop.logs, state
    )
    assert counts(database, "effects") == {event_id: 1 for event_id in ids}
    # Neither copy's task ran the handlers again: the store's claim let one run them.
    assert counts(database, "runs") == {event_id: 1 for event_id in ids}


# What Celery beat does once an entry is due (its first 300 s after it starts): send the
# entry's task with the entry's options.
BEAT = """
from queue_app import app

entry = app.conf.beat_schedule["stripekit-sweep"]
app.send_task(entry["task"], **entry.get("options", {}))
"""


@pytest.mark.parametrize(
    "adapter", [a for a in ADAPTERS if a.name == "celery"], ids=str, indirect=True
)
def test_celery_beats_sweep_from_the_page_runs_on_the_worker(shop, adapter, database):
    down = adapter.url(closed_port_url(adapter.scheme))
    ids = [f"evt_beat_{n}" for n in range(3)]
    # The broker out of the web app's reach: its events wait queued, no task sent.
    assert Counter(post(shop.server(broker=down), ids)) == answered(ids)
    assert statuses(shop.kit) == {EventStatus.QUEUED: 3}

    shop.worker(STRIPEKIT_SWEEP_GRACE="0").start()
    shop.run("-c", BEAT)

    state = functools.partial(statuses, shop.kit)
    wait_until(lambda: state() == {EventStatus.PROCESSED: 3}, "swept", shop.logs, state)
    assert counts(database, "effects") == {event_id: 1 for event_id in ids}
