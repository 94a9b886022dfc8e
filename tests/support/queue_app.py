"""The app the queue tests run: the web side (the test process) and a worker (a subprocess).

``build(adapter, broker, database, queue)`` makes a deferred-mode kit wired to the
adapter; the worker process imports this module with the same settings in its
environment (QUEUE_TEST_*), which builds the same at import, so that
``celery -A queue_app:celery_app worker``, ``dramatiq queue_app`` and
``arq queue_app.WorkerSettings`` find what they need.

The handler does what a careful app does: its effect is a row keyed by the event
id (written at most once, ON CONFLICT DO NOTHING), and every run is counted in
``runs``, so a test tells "ran twice" from "had its effect twice". An event whose
object says ``fail_first`` fails its first run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text

from stripekit import Event, StripeKit, WebhookRegistry

SECRET = "whsec_queues"
TABLES = (
    "CREATE TABLE IF NOT EXISTS effects (event_id VARCHAR(255) PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS runs (event_id VARCHAR(255) NOT NULL)",
)


@dataclass
class Built:
    kit: StripeKit
    task: Any
    engine: Any = None
    broker: Any = None
    """What holds the broker connections: closed with the rest (no socket left to the GC)."""

    def close(self) -> None:
        """Close the store's, the handler's and the broker's connections (the test's side)."""
        close_store = getattr(self.kit.store, "close", None)
        if close_store is not None:
            close_store()
        if self.engine is not None:
            self.engine.dispose()
        if self.broker is not None:
            self.broker.close()


def build(adapter: str, broker: str, database: str, queue: str) -> Built:
    engine = create_engine(database, pool_size=8)
    with engine.begin() as conn:
        for statement in TABLES:
            conn.execute(text(statement))
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    def fulfil(event: Event) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO runs VALUES (:id)"), {"id": event.id})
            runs = conn.execute(
                text("SELECT count(*) FROM runs WHERE event_id = :id"), {"id": event.id}
            ).scalar_one()
        if event.object.get("fail_first") and runs == 1:
            raise RuntimeError("the warehouse API timed out")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO effects VALUES (:id) ON CONFLICT DO NOTHING"), {"id": event.id}
            )

    kit = StripeKit(
        webhook_secret=SECRET,
        database_url=database,
        webhooks=webhooks,
        billing=False,
        processing="deferred",
        claim_lease=300,  # long: a killed worker is taken over as dead, not by time
    )
    if adapter.startswith("celery"):
        from celery import Celery

        from stripekit.queues import celery as stripekit_celery

        app = Celery("queue_tests", broker=broker)
        app.conf.update(
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            task_default_queue=queue,
            # Redis: a killed worker's tasks come back after 3 s (the default is an hour).
            broker_transport_options={
                "visibility_timeout": 3,
                "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1,
            },
            # A retried task waits 0-1 s, not Celery's default backoff of seconds.
            task_annotations={"stripekit.run_deferred": {"retry_backoff_max": 1}},
        )
        task = stripekit_celery.register(app, kit, queue=queue, retry_backoff_max=1)
        return Built(kit, task, engine, app)
    if adapter == "dramatiq":
        import dramatiq
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        from stripekit.queues import dramatiq as stripekit_dramatiq

        # One connection attempt: a broker that is down fails the send at once.
        # pika names the default vhost %2F (Celery's URL says //).
        url = broker.rstrip("/") + "/%2F?connection_attempts=1"
        dramatiq_broker = RabbitmqBroker(url=url)
        dramatiq.set_broker(dramatiq_broker)  # the one `dramatiq queue_app` runs
        actor = stripekit_dramatiq.register(
            kit, broker=dramatiq_broker, queue_name=queue, min_backoff=100, max_backoff=500
        )
        return Built(kit, actor, engine, dramatiq_broker)
    if adapter == "rq":
        from redis import Redis
        from rq import Queue, Retry

        from stripekit.queues import rq as stripekit_rq

        connection = Redis.from_url(broker, socket_connect_timeout=2)
        rq_queue = Queue(queue, connection=connection)
        adapter_ = stripekit_rq.register(
            kit, rq_queue, kit_path="queue_app:kit", retry=Retry(max=3)
        )
        return Built(kit, adapter_, engine)
    raise ValueError(f"unknown adapter {adapter!r}")


if os.environ.get("QUEUE_TEST_ADAPTER"):
    _built = build(
        os.environ["QUEUE_TEST_ADAPTER"],
        os.environ["QUEUE_TEST_BROKER"],
        os.environ["QUEUE_TEST_DATABASE"],
        os.environ["QUEUE_TEST_QUEUE"],
    )
    kit = _built.kit
    celery_app = getattr(_built.task, "app", None) if _built.task is not None else None
