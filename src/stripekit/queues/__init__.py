"""Task queue adapters for deferred processing: each wires the app's own queue to the kit.

In deferred mode (``STRIPEKIT_PROCESSING=deferred``) the webhook route records each
event ``queued`` and sends its id to a ``TaskQueue``; a worker of that queue runs
``kit.run_deferred(event_id)``. One module per queue, each behind an extra, each
with a one-line ``register`` that returns the task (or actor) and sets the kit's
queue::

    stripekit.queues.celery     register(celery_app, kit)     pip install "stripekit[celery]"
    stripekit.queues.dramatiq   register(kit)                 pip install "stripekit[dramatiq]"
    stripekit.queues.rq         register(kit, queue, kit_path) pip install "stripekit[rq]"
    stripekit_django.tasks      Django's tasks framework      pip install "stripekit[django-tasks]"

Any object with ``enqueue(event_id)`` is a queue too (``StripeKit(queue=...)``).
See docs/scale.md.
"""

from __future__ import annotations

from stripekit.webhooks._queue import TaskQueue

__all__ = ["TaskQueue"]
