"""What the queue tests' worker and web processes import: docs/scale.md's ``tasks.py``,
as written, with only what a test cannot live with changed (timings of minutes, a name
shared by every Celery worker on the machine), and its web app.

The test writes the page's ``tasks.py`` for its adapter into a project folder, beside
``shop/handlers.py`` (tests/support/queue_handlers.py), and gives its processes the
environment the page names (the broker's URL, ``STRIPEKIT_DATABASE_URL``,
``STRIPE_WEBHOOK_SECRET``): see queue_harness.Shop. Then

- the Celery worker is ``celery -A queue_app:app worker``, Dramatiq's is
  ``dramatiq queue_app`` (RQ's imports ``tasks:kit`` itself, as the page says);
- the web app is ``uvicorn queue_app:web --factory``: the page's kit behind
  ``stripekit_router``, mounted as docs/fastapi.md mounts it.
"""

from __future__ import annotations

from typing import Any

import tasks
from tasks import kit

from stripekit.queues.celery import CeleryQueue
from stripekit.queues.dramatiq import DramatiqQueue
from stripekit.queues.rq import RQQueue

app: Any = getattr(tasks, "app", None)
"""The Celery application (``celery -A queue_app:app``), if the adapter is Celery."""


def _for_tests(queue: object) -> None:
    """What a test changes: retries within a second, a killed worker's tasks back within
    seconds (the libraries' defaults are minutes to an hour, rightly for production), and
    no Celery remote control."""
    if isinstance(queue, CeleryQueue):
        app.conf.update(
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            # Redis: a killed worker's tasks come back after 10 s (the default is an hour).
            # Any task unacked that long is sent again, even from a live worker: longer
            # than the tests' hanging handler runs before they kill its worker.
            broker_transport_options={
                "visibility_timeout": 10,
                "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1,
            },
            # A retried task waits 0-1 s, not Celery's default backoff of seconds.
            task_annotations={"stripekit.run_deferred": {"retry_backoff_max": 1}},
            # No remote control: its exclusive RabbitMQ queue is named after the host
            # (celery@host.celery.pidbox), so a worker of another run on this machine, or
            # one just killed, would hold it and stop this one from consuming.
            worker_enable_remote_control=False,
        )
    elif isinstance(queue, DramatiqQueue):
        queue.actor.options.update(min_backoff=100, max_backoff=500)
        broker = queue.actor.broker
        if type(broker).__name__ == "RedisBroker":
            from dramatiq.brokers.redis import MAINTENANCE_SCALE

            # A killed worker's messages go back to the queue once its heartbeat is 3 s
            # old, at the next maintenance pass: here every command makes one.
            broker.heartbeat_timeout = 3_000
            broker.maintenance_chance = MAINTENANCE_SCALE
    elif isinstance(queue, RQQueue):
        from rq import Retry

        # Retried at once, without the scheduler (the page's default waits 10 s first).
        queue.retry = Retry(max=3)
    else:
        raise TypeError(f"tasks.py set no queue adapter the tests know: {queue!r}")


_for_tests(kit.queue)


def web() -> Any:
    """The web app: the kit's routes under /stripe (uvicorn queue_app:web --factory)."""
    from fastapi import FastAPI

    from stripekit_fastapi import stripekit_router

    api = FastAPI()
    api.include_router(stripekit_router(kit), prefix="/stripe")
    return api
