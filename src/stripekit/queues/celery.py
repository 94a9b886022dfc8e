"""Deferred processing on Celery (RabbitMQ, Redis or any broker Celery speaks).

The web app and the worker import the same module::

    # tasks.py
    from celery import Celery
    from stripekit.queues import celery as stripekit_celery

    app = Celery("shop", broker="amqp://guest:guest@127.0.0.1:5672//")
    kit = StripeKit(processing="deferred", webhooks=webhooks)
    run_deferred = stripekit_celery.register(app, kit)

and the worker runs ``celery -A tasks worker``. The task is ``acks_late`` (a
worker killed mid-task leaves its message to the broker, which hands it to
another: RabbitMQ at once, Redis after its ``visibility_timeout``) and
retries with Celery's exponential backoff while a handler raises. The store's
claim makes every redelivery harmless. On Redis a worker takes each message off
the list before it records it unacked, so one killed then loses the task it was
receiving: its event stays ``queued`` until the sweeper runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripekit._errors import DeferredProcessingError

from ._extra import missing_extra

if TYPE_CHECKING:
    from stripekit._kit import StripeKit

__all__ = ["CeleryQueue", "register"]

TASK_NAME = "stripekit.run_deferred"

# Publishing runs inside the webhook request: a broker that is down must fail it
# fast (the event is recorded; the sweeper runs it), not hold Stripe's request.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


class CeleryQueue:
    """A ``TaskQueue`` that sends each event id to a Celery task.

    Args:
        task: the task ``register`` made (any task taking the event id will do).
        queue: the Celery queue to route it to (None: the task's default).
    """

    def __init__(self, task: Any, *, queue: str | None = None) -> None:
        self.task = task
        self.queue = queue

    def __repr__(self) -> str:
        return f"<CeleryQueue task={self.task.name!r} queue={self.queue!r}>"

    def enqueue(self, event_id: str) -> None:
        """Publish the task; raises if the broker cannot be reached (after one quick retry)."""
        options: dict[str, Any] = {"retry": True, "retry_policy": _PUBLISH_RETRY}
        if self.queue is not None:
            options["queue"] = self.queue
        self.task.apply_async((event_id,), **options)


def register(
    app: Any,
    kit: StripeKit,
    *,
    name: str = TASK_NAME,
    queue: str | None = None,
    max_retries: int = 8,
    retry_backoff_max: int = 600,
) -> Any:
    """Make the task that runs deferred events on ``app`` and set it as ``kit``'s queue.

    Args:
        app: the ``celery.Celery`` application.
        kit: the StripeKit whose events it runs (``processing="deferred"`` on the web side).
        name: the task's name.
        queue: the Celery queue to send the tasks to (start the worker with ``-Q``).
        max_retries: how often Celery retries a task whose handlers raise (with
            exponential backoff, up to ``retry_backoff_max`` seconds apart); the
            sweeper (``kit.sweep``) takes over after that, within its own budget.

    Returns:
        The Celery task (``run_deferred.delay(event_id)`` runs one by hand).

    Example:
        >>> run_deferred = register(app, kit)  # doctest: +SKIP
    """
    try:
        import celery  # noqa: F401
    except ImportError:
        raise missing_extra("celery", "celery") from None

    @app.task(  # type: ignore[untyped-decorator]
        name=name,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(DeferredProcessingError,),
        retry_backoff=True,
        retry_backoff_max=retry_backoff_max,
        retry_jitter=True,
        max_retries=max_retries,
    )
    def run_deferred(event_id: str) -> str:
        return kit.run_deferred(event_id).outcome

    kit.use_queue(CeleryQueue(run_deferred, queue=queue))
    return run_deferred
