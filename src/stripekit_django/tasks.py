"""Deferred processing on Django's tasks framework: ``django.tasks`` (Django 6), or the
``django-tasks`` backport on Django 5.2.

In settings::

    STRIPEKIT = {"PROCESSING": "deferred", "QUEUE": "stripekit_django.tasks.queue"}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # a real backend

and a worker runs the backend's command (``manage.py db_worker`` for
django-tasks-db). Django's tasks framework has no retry policy of its own and
does not hand a killed worker's task to another: schedule the sweeper
(``manage.py stripekit_events sweep``), which retries failed events within
``STRIPEKIT_SWEEP_MAX_ATTEMPTS`` and takes over those a dead worker left.
"""

from __future__ import annotations

from typing import Any

from stripekit._errors import MissingExtraError

__all__ = ["DjangoTaskQueue", "queue", "run_deferred"]


def _task_decorator() -> Any:
    import importlib

    # Django 6 has it built in; on 5.2 the django-tasks backport is the same API.
    for module in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(module).task
        except ImportError:
            continue
    raise MissingExtraError("stripekit_django.tasks", "django-tasks", "django-tasks")


def _as_task(function: Any) -> Any:
    return _task_decorator()()(function)


# Named as the module's attribute: a real backend (django-tasks-db) refuses a task whose
# module path does not import back to the task itself.
@_as_task
def run_deferred(event_id: str) -> str:
    """The task: runs a queued event with the project's kit (idempotent); raises when the
    handlers failed, so the task's result shows the failure (and the store, ``failed``)."""
    from .conf import get_kit

    return get_kit().run_deferred(event_id).outcome


class DjangoTaskQueue:
    """A ``TaskQueue`` that enqueues ``run_deferred`` on Django's tasks framework.

    Args:
        backend: the ``TASKS`` alias to use (None: the task's default).
        queue_name: the backend's queue (None: the default queue).
    """

    def __init__(self, backend: str | None = None, queue_name: str | None = None) -> None:
        self.backend = backend
        self.queue_name = queue_name

    def __repr__(self) -> str:
        return f"<DjangoTaskQueue backend={self.backend!r} queue={self.queue_name!r}>"

    def enqueue(self, event_id: str) -> None:
        """Enqueue the task (a database backend writes it in the request's transaction)."""
        self._task().enqueue(event_id)

    def problems(self) -> list[str]:
        """What the backend would refuse at enqueue (an alias ``TASKS`` does not define, a
        queue the backend does not serve), found now: ``manage.py check`` reports it
        (stripekit.E006) instead of every event waiting for the sweeper.

        Example:
            >>> DjangoTaskQueue(queue_name="stripe").problems()  # doctest: +SKIP
            ["Queue 'stripe' is not valid for backend."]
        """
        try:
            task = self._task()
            task.get_backend().validate_task(task)
        except Exception as exc:  # the framework's own errors, whichever its version
            return [f"{self!r} cannot enqueue: {exc}"]
        return []

    def _task(self) -> Any:
        options = {
            key: value
            for key, value in (("backend", self.backend), ("queue_name", self.queue_name))
            if value is not None
        }
        return run_deferred.using(**options) if options else run_deferred


queue = DjangoTaskQueue()
"""The default queue: ``STRIPEKIT = {"QUEUE": "stripekit_django.tasks.queue", ...}``."""
