"""Deferred processing on RQ (Redis).

RQ runs a job by importing its function, so the worker finds the kit by its
import path, the one ``register`` is given::

    # tasks.py
    from redis import Redis
    from rq import Queue
    from stripekit.queues import rq as stripekit_rq

    kit = StripeKit(processing="deferred", webhooks=webhooks)
    stripekit_rq.register(kit, Queue("stripe", connection=Redis()), kit_path="tasks:kit")

and the worker runs ``rq worker stripe --with-scheduler``. A failed job is retried
per its ``Retry`` (the scheduler runs retries that wait). RQ does not give a job
whose worker was killed to another worker before the job's timeout: the sweeper
(``stripekit events sweep``, on a schedule) takes such an event over at once
when the worker died on the same machine, else once its lease ran out.

Why RQ rather than arq for Redis: arq pins redis-py below 6 while Celery's Redis
transport needs 6.4 or newer, so arq could not be installed beside Celery.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from stripekit._errors import ConfigurationError

from ._extra import missing_extra

if TYPE_CHECKING:
    from stripekit._kit import StripeKit
    from stripekit.webhooks._dispatch import WebhookResult

__all__ = ["RQQueue", "register", "run_deferred"]

JOB = "stripekit.queues.rq.run_deferred"
"""The import path of the job function RQ runs."""


class RQQueue:
    """A ``TaskQueue`` that enqueues an RQ job per event id."""

    def __init__(self, queue: Any, kit_path: str, retry: Any = None) -> None:
        self.queue = queue
        self.kit_path = kit_path
        self.retry = retry

    def __repr__(self) -> str:
        return f"<RQQueue {self.queue.name!r} kit={self.kit_path!r}>"

    def enqueue(self, event_id: str) -> None:
        """Enqueue the job; raises if Redis cannot be reached."""
        self.queue.enqueue(JOB, self.kit_path, event_id, retry=self.retry)


def register(kit: StripeKit, queue: Any, *, kit_path: str, retry: Any = None) -> RQQueue:
    """Set an RQ queue as ``kit``'s queue.

    Args:
        kit: the StripeKit whose events it runs (``processing="deferred"`` on the web side).
        queue: the ``rq.Queue`` (its Redis connection with it).
        kit_path: where the worker finds the same kit: ``"module:attribute"``.
        retry: an ``rq.Retry`` (default: 8 retries, from 10 s to 10 minutes apart).

    Returns:
        The queue adapter (``.enqueue(event_id)`` sends one by hand).

    Example:
        >>> queue = Queue("stripe", connection=Redis())  # doctest: +SKIP
        >>> register(kit, queue, kit_path="tasks:kit")  # doctest: +SKIP
    """
    try:
        from rq import Retry
    except ImportError:
        raise missing_extra("rq", "rq") from None
    if ":" not in kit_path:
        raise ConfigurationError(
            f"kit_path {kit_path!r}: give the kit's import path as module:attribute "
            "(e.g. 'shop.tasks:kit'), so that the worker finds it"
        )
    if retry is None:
        retry = Retry(max=8, interval=[10, 30, 60, 120, 300, 600, 600, 600])
    adapter = RQQueue(queue, kit_path, retry)
    kit.use_queue(adapter)
    return adapter


def run_deferred(kit_path: str, event_id: str) -> str:
    """The RQ job: run the event with the kit found at ``kit_path`` (idempotent)."""
    result: WebhookResult = _kit(kit_path).run_deferred(event_id)
    return result.outcome


@functools.cache
def _kit(kit_path: str) -> StripeKit:
    import importlib

    from stripekit._kit import StripeKit

    module_name, _, attribute = kit_path.partition(":")
    kit = getattr(importlib.import_module(module_name), attribute, None)
    if not isinstance(kit, StripeKit):
        raise ConfigurationError(f"{kit_path} is not a StripeKit (rq worker for stripekit)")
    return kit
