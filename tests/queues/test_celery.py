"""Celery, on RabbitMQ and on Redis: kill -9 mid-way, broker down, a task delivered twice."""

from __future__ import annotations

import sys

import pytest
from queue_app import build
from queue_harness import (
    closed_port_url,
    counts,
    deliver,
    statuses,
    wait_until,
    worker_env,
)
from services import AMQP_URL, REDIS_URL, require_module, require_port

from stripekit import EventStatus

pytestmark = pytest.mark.queues

EVENTS = 200
THREADS = 4


@pytest.fixture(params=["amqp", "redis"])
def broker(request: pytest.FixtureRequest) -> str:
    require_module("celery", "celery")
    if request.param == "amqp":
        return require_port(AMQP_URL, "RabbitMQ")
    require_module("redis", "celery")
    return require_port(REDIS_URL, "Redis")


def celery_worker(workers, broker, database, queue_name, threads=THREADS):
    command = [
        sys.executable, "-m", "celery", "-A", "queue_app:celery_app", "worker",
        "--pool=threads", f"--concurrency={threads}", "-Q", queue_name,
        "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
    ]  # fmt: skip
    return workers(command, **worker_env("celery", broker, database, queue_name))


def test_a_worker_killed_mid_way_every_event_has_its_effect_once(
    broker, database, queue_name, workers
):
    built = build("celery", broker, database, queue_name)
    ids = [f"evt_kill_{n:03}" for n in range(EVENTS)]
    assert {deliver(built.kit, event_id) for event_id in ids} == {"queued"}
    assert statuses(built.kit) == {EventStatus.QUEUED: EVENTS}

    worker = celery_worker(workers, broker, database, queue_name).start()
    wait_until(
        lambda: len(counts(database, "effects")) >= EVENTS // 4, "a quarter done", worker.log
    )
    worker.kill()
    done_at_kill = len(counts(database, "effects"))
    assert done_at_kill < EVENTS, "the worker finished before it was killed"
    worker.start()
    wait_until(
        lambda: statuses(built.kit) == {EventStatus.PROCESSED: EVENTS}, "all processed", worker.log
    )

    effects, runs = counts(database, "effects"), counts(database, "runs")
    assert effects == {event_id: 1 for event_id in ids}
    # Only the handlers cut short by the kill ran twice (at most one per thread).
    assert set(runs) == set(ids)
    assert sum(runs.values()) - EVENTS <= THREADS


def test_broker_down_at_enqueue_the_sweeper_runs_the_events(database, queue_name, broker):
    down = closed_port_url("amqp" if broker.startswith("amqp") else "redis")
    built = build("celery", down, database, queue_name)
    ids = [f"evt_down_{n}" for n in range(5)]

    assert {deliver(built.kit, event_id) for event_id in ids} == {"queued"}
    assert statuses(built.kit) == {EventStatus.QUEUED: 5}

    report = built.kit.sweep(grace=0)
    assert report.counts == {"processed": 5}
    assert counts(database, "effects") == {event_id: 1 for event_id in ids}
    assert built.kit.sweep(grace=0).results == []


def test_a_task_delivered_twice_runs_once_and_a_failure_is_retried_by_celery(
    broker, database, queue_name, workers
):
    built = build("celery", broker, database, queue_name)
    deliver(built.kit, "evt_twice")
    built.task.apply_async(("evt_twice",), queue=queue_name)  # the same task, again
    built.task.apply_async(("evt_twice",), queue=queue_name)
    deliver(built.kit, "evt_fails", fail_first=True)
    deliver(built.kit, "evt_last")

    # One thread, a FIFO queue: once evt_last ran, the three evt_twice tasks had run.
    worker = celery_worker(workers, broker, database, queue_name, threads=1).start()
    wait_until(lambda: "evt_last" in counts(database, "effects"), "evt_last ran", worker.log)
    wait_until(
        lambda: built.kit.store.get("evt_fails").status is EventStatus.PROCESSED,
        "Celery retried evt_fails",
        worker.log,
    )

    runs = counts(database, "runs")
    assert runs["evt_twice"] == 1
    assert runs["evt_fails"] == 2
    retried = built.kit.store.get("evt_fails")
    assert retried.attempts == 2
    assert "the warehouse API timed out" in retried.last_error  # the failure stays on record
