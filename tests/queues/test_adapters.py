"""Every task queue adapter against its real broker: Celery (RabbitMQ and Redis), Dramatiq
(RabbitMQ) and RQ (Redis). A worker killed mid-way, the broker down at enqueue, the same
task delivered twice, a failing handler retried by the queue's own policy. The event store
and the handler's tables are in PostgreSQL (tests/support/queue_app.py)."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

import pytest
from queue_harness import closed_port_url, counts, deliver, statuses, wait_until, worker_env
from services import AMQP_URL, REDIS_URL, require_module, require_port

from stripekit import EventStatus

pytestmark = pytest.mark.queues

EVENTS = 200


@dataclass(frozen=True)
class Adapter:
    name: str
    scheme: str  # of the broker's URL: amqp or redis
    module: str  # the library it needs
    redelivers: bool
    """Whether the broker gives a killed worker's tasks to the next worker by itself
    (else the sweeper takes their events over)."""

    @property
    def broker(self) -> str:
        if self.scheme == "amqp":
            return require_port(AMQP_URL, "RabbitMQ")
        return require_port(REDIS_URL, "Redis")

    def command(self, queue: str, threads: int) -> list[str]:
        if self.name == "celery":
            return [
                sys.executable, "-m", "celery", "-A", "queue_app:celery_app", "worker",
                "--pool=threads", f"--concurrency={threads}", "-Q", queue,
                "--without-heartbeat", "--without-gossip", "--without-mingle",
                "--loglevel=WARNING",
            ]  # fmt: skip
        if self.name == "dramatiq":
            return [
                sys.executable, "-m", "dramatiq", "queue_app", "--processes", "1",
                "--threads", str(threads), "--queues", queue,
            ]  # fmt: skip
        # RQ runs one job at a time; SimpleWorker runs it in the worker's own process.
        return [
            sys.executable, "-c", "from rq.cli import main; main()", "worker", "--url",
            self.broker, "--worker-class", "rq.worker.SimpleWorker", queue,
        ]  # fmt: skip

    def threads(self) -> int:
        return 1 if self.name == "rq" else 4


ADAPTERS = [
    Adapter("celery", "amqp", "celery", redelivers=True),
    Adapter("celery", "redis", "celery", redelivers=True),  # after its visibility timeout: 3 s
    Adapter("dramatiq", "amqp", "dramatiq", redelivers=True),
    Adapter("rq", "redis", "rq", redelivers=False),
]


@pytest.fixture(params=ADAPTERS, ids=lambda a: f"{a.name}-{a.scheme}")
def adapter(request: pytest.FixtureRequest) -> Adapter:
    found: Adapter = request.param
    require_module(found.module, found.name)
    if found.scheme == "redis":
        require_module("redis", found.name)
    return found


def start_worker(workers, adapter, database, queue_name, threads=None):
    command = adapter.command(queue_name, threads or adapter.threads())
    return workers(command, **worker_env(adapter.name, adapter.broker, database, queue_name))


def test_a_worker_killed_mid_way_every_event_has_its_effect_once(
    adapter, database, queue_name, workers, build
):
    built = build(adapter.name, adapter.broker, database, queue_name)
    ids = [f"evt_kill_{n:03}" for n in range(EVENTS)]
    assert {deliver(built.kit, event_id) for event_id in ids} == {"queued"}
    assert statuses(built.kit) == {EventStatus.QUEUED: EVENTS}

    worker = start_worker(workers, adapter, database, queue_name).start()
    wait_until(
        lambda: len(counts(database, "effects")) >= EVENTS // 4, "a quarter done", worker.log
    )
    worker.kill()
    assert len(counts(database, "effects")) < EVENTS, "the worker finished before it was killed"
    worker.start()
    state = functools.partial(statuses, built.kit)
    if adapter.redelivers:
        done = lambda: state() == {EventStatus.PROCESSED: EVENTS}  # noqa: E731
    else:
        # The killed worker's jobs are lost to the queue: the one it ran (its event left
        # processing by a process that is gone) and any it had taken off the queue but
        # not started (its event still queued). Those are the sweeper's, which runs
        # beside the live worker as a scheduler would: the store's claim decides.
        def done() -> bool:
            assert built.kit.sweep(grace=0).ok
            return state() == {EventStatus.PROCESSED: EVENTS}

    wait_until(done, "all processed", worker.log, state)

    effects, runs = counts(database, "effects"), counts(database, "runs")
    assert effects == {event_id: 1 for event_id in ids}
    # Only the handlers cut short by the kill ran twice (at most one per worker thread).
    assert set(runs) == set(ids)
    assert sum(runs.values()) - EVENTS <= adapter.threads()


def test_broker_down_at_enqueue_the_sweeper_runs_the_events(adapter, database, queue_name, build):
    built = build(adapter.name, closed_port_url(adapter.scheme), database, queue_name)
    ids = [f"evt_down_{n}" for n in range(5)]

    assert {deliver(built.kit, event_id) for event_id in ids} == {"queued"}
    assert statuses(built.kit) == {EventStatus.QUEUED: 5}

    report = built.kit.sweep(grace=0)
    assert report.counts == {"processed": 5}
    assert counts(database, "effects") == {event_id: 1 for event_id in ids}
    assert built.kit.sweep(grace=0).results == []


def test_a_task_delivered_twice_runs_once_and_a_failure_is_retried_by_the_queue(
    adapter, database, queue_name, workers, build
):
    built = build(adapter.name, adapter.broker, database, queue_name)
    deliver(built.kit, "evt_twice")
    built.kit.queue.enqueue("evt_twice")  # the same task, twice more
    built.kit.queue.enqueue("evt_twice")
    deliver(built.kit, "evt_fails", fail_first=True)
    deliver(built.kit, "evt_last")

    # One thread, a FIFO queue: once evt_last ran, the three evt_twice tasks had run.
    worker = start_worker(workers, adapter, database, queue_name, threads=1).start()
    wait_until(lambda: "evt_last" in counts(database, "effects"), "evt_last ran", worker.log)
    wait_until(
        lambda: built.kit.store.get("evt_fails").status is EventStatus.PROCESSED,
        "the queue retried evt_fails",
        worker.log,
    )

    runs = counts(database, "runs")
    assert runs["evt_twice"] == 1
    assert runs["evt_fails"] == 2
    retried = built.kit.store.get("evt_fails")
    assert retried.attempts == 2
    assert "the warehouse API timed out" in retried.last_error  # the failure stays on record
