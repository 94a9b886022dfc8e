"""The task queue protocol: how deferred mode hands an event over to the app's own queue.

In deferred mode the webhook route records the event ``queued``, commits, and
calls ``queue.enqueue(event_id)``; a worker of that queue later calls
``kit.run_deferred(event_id)``, which claims the event from the store (the
claim, not the queue, decides who runs it) and runs the handlers::

    route: verify ─▶ store.record_queued ─▶ queue.enqueue(id) ─▶ 200
    worker: kit.run_deferred(id) ─▶ store.claim_for_replay ─▶ handlers ─▶ complete / fail

Only the event id travels: the payload stays in the store, so a task never
carries data an attacker could have changed, and a queue's size limits never
matter. Adapters for Celery, Dramatiq, arq and Django's tasks framework live in
``stripekit.queues``; any object with ``enqueue`` will do.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["TaskQueue"]


@runtime_checkable
class TaskQueue(Protocol):
    """Where deferred mode sends the id of each event it recorded.

    ``enqueue`` may raise (the broker is down): the event stays ``queued`` in the
    store and the sweeper runs it later. A queue may also have
    ``async def aenqueue(event_id)``; async routes then await it instead of
    running ``enqueue`` in a worker thread.

    Example:
        >>> class PrintQueue:
        ...     def enqueue(self, event_id: str) -> None:
        ...         print("run", event_id)
        >>> isinstance(PrintQueue(), TaskQueue)
        True
    """

    def enqueue(self, event_id: str) -> None:
        """Send a task that calls ``kit.run_deferred(event_id)``."""
        ...
