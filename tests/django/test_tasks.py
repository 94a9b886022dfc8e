"""Deferred processing on Django's tasks framework (the django-tasks backport on 5.2): the
view records the event queued and enqueues the task; the task runs it once, however often
it runs; a failure raises and shows failed; the sweeper retries it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from shop.models import Order

from stripekit import DeferredProcessingError, EventStatus
from stripekit.testing import signed_event
from stripekit_django import get_kit

try:  # Django 6 has the framework built in; 5.2 has the django-tasks backport
    import django.tasks as tasks_framework  # type: ignore[import-not-found,unused-ignore]

    DUMMY = "django.tasks.backends.dummy.DummyBackend"
except ImportError:
    tasks_framework = pytest.importorskip(
        "django_tasks", reason="pip install 'stripekit[django-tasks]'"
    )
    DUMMY = "django_tasks.backends.dummy.DummyBackend"

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_django_shop"


@pytest.fixture
def deferred(settings: Any) -> Any:
    settings.STRIPEKIT = {
        **settings.STRIPEKIT,
        "BILLING": False,
        "PROCESSING": "deferred",
        "QUEUE": "stripekit_django.tasks.queue",
    }
    with override_settings(TASKS={"default": {"BACKEND": DUMMY}}):
        backend = tasks_framework.default_task_backend
        backend.clear()
        yield backend
        backend.clear()


def deliver(client: Client, event_id: str, email: str = "a@b.c") -> Any:
    session = {"id": f"cs_{event_id}", "object": "checkout.session", "customer_email": email}
    body, headers = signed_event("checkout.session.completed", session, secret=SECRET, id=event_id)
    return client.post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )  # fmt: skip


def run_enqueued(backend: Any) -> list[Any]:
    """What a worker does: run each enqueued task (the dummy backend only keeps them)."""
    outcomes = []
    for result in list(backend.results):
        outcomes.append(result.task.call(*result.args, **result.kwargs))
    return outcomes


def test_the_view_defers_and_the_task_runs_the_event_once(deferred: Any, client: Client) -> None:
    answer = deliver(client, "evt_deferred")
    assert (answer.status_code, answer.json()["status"]) == (200, "queued")
    assert not Order.objects.exists()
    assert get_kit().store.get("evt_deferred").status is EventStatus.QUEUED  # type: ignore[union-attr]
    assert [r.args for r in deferred.results] == [["evt_deferred"]]

    deliver(client, "evt_deferred")  # a duplicate while queued: a second task, harmless
    assert run_enqueued(deferred) == ["processed", "duplicate"]
    assert list(Order.objects.values_list("session_id", flat=True)) == ["cs_evt_deferred"]
    assert deliver(client, "evt_deferred").json()["status"] == "duplicate"


def test_a_failing_handler_raises_shows_failed_and_the_sweeper_retries(
    deferred: Any, client: Client
) -> None:
    assert deliver(client, "evt_bad", email="fail@b.c").status_code == 200
    with pytest.raises(DeferredProcessingError, match="evt_bad"):
        run_enqueued(deferred)
    failed = get_kit().store.list(status=EventStatus.FAILED)
    assert [row.id for row in failed] == ["evt_bad"]
    assert failed[0].last_error

    report = get_kit().sweep(grace=0, max_attempts=1)
    assert report.results == []  # its one attempt was the budget
    assert get_kit().sweep(grace=0).counts == {"failed": 1}
