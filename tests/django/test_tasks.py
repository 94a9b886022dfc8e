"""Deferred processing on Django's tasks framework (the django-tasks backport on 5.2): the
view records the event queued and enqueues the task; the task runs it once, however often
it runs; a failure raises and shows failed; the sweeper retries it.

In-process with the dummy backend first; then with the django-tasks-db backend and its
real worker (``manage.py db_worker`` in a subprocess on the test's SQLite file): a worker
killed mid-way, restarted, and the sweeper for the task it took; the same task twice; and
the project served over HTTP (uvicorn, Django's ASGI app, in a process of its own) while
the worker runs, each event posted twice at once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from queue_harness import Worker, wait_until
from shop.models import Order
from webhook_server import Server, raw_request, send_all

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


def signed_session(event_id: str, email: str = "a@b.c") -> tuple[bytes, dict[str, str]]:
    session = {"id": f"cs_{event_id}", "object": "checkout.session", "customer_email": email}
    return signed_event("checkout.session.completed", session, secret=SECRET, id=event_id)


def deliver(client: Client, event_id: str, email: str = "a@b.c") -> Any:
    body, headers = signed_session(event_id, email)
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


def test_the_task_is_the_frameworks_own() -> None:
    """Django 6's built-in framework, never the backport beside it (the django-tasks extra
    installs both): the task, and django-tasks-db's backend, belong to ``django.tasks``."""
    import importlib

    import django

    from stripekit_django.tasks import run_deferred

    name = "django.tasks" if django.VERSION >= (6,) else "django_tasks"
    assert tasks_framework.__name__ == name
    assert isinstance(run_deferred, importlib.import_module(f"{name}.base").Task)
    db = pytest.importorskip("django_tasks_db", reason="pip install 'stripekit[django-tasks]'")
    backends = importlib.import_module(f"{name}.backends.base")
    assert issubclass(db.DatabaseBackend, backends.BaseTaskBackend)


def test_a_queue_on_its_own_backend_and_queue_name(
    deferred: Any, settings: Any, client: Client
) -> None:
    from stripekit_django.tasks import DjangoTaskQueue

    settings.STRIPEKIT = {**settings.STRIPEKIT, "QUEUE": DjangoTaskQueue("stripe", "stripe")}
    two = {"default": {"BACKEND": DUMMY}, "stripe": {"BACKEND": DUMMY, "QUEUES": ["stripe"]}}
    with override_settings(TASKS=two):
        stripe_backend = tasks_framework.task_backends["stripe"]
        assert deliver(client, "evt_routed").json()["status"] == "queued"
        (result,) = stripe_backend.results
        assert (result.task.queue_name, result.args) == ("stripe", ["evt_routed"])
        assert tasks_framework.default_task_backend.results == []
        assert run_enqueued(stripe_backend) == ["processed"]
        assert list(Order.objects.values_list("session_id", flat=True)) == ["cs_evt_routed"]


@pytest.mark.parametrize(
    ("queue", "says"),
    [
        (("stripe", "elsewhere"), "Queue 'elsewhere' is not valid"),
        (("nowhere", None), "nowhere"),
        ("shop.nowhere.queue", "does not import"),
    ],
)
def test_a_queue_the_backend_would_refuse_is_a_system_check_error(
    settings: Any, queue: Any, says: str
) -> None:
    """Found by ``manage.py check`` (stripekit.E006), not at the first enqueue, after which
    every event would wait for the sweeper."""
    from django.core.checks import run_checks

    from stripekit_django.tasks import DjangoTaskQueue

    configured = queue if isinstance(queue, str) else DjangoTaskQueue(*queue)
    two = {"default": {"BACKEND": DUMMY}, "stripe": {"BACKEND": DUMMY, "QUEUES": ["stripe"]}}
    with override_settings(TASKS=two):
        settings.STRIPEKIT = {**settings.STRIPEKIT, "QUEUE": DjangoTaskQueue("stripe", "stripe")}
        assert [c.id for c in run_checks(tags=["stripekit"])] == []
        settings.STRIPEKIT = {**settings.STRIPEKIT, "QUEUE": configured}
        (found,) = run_checks(tags=["stripekit"])
    assert found.id == "stripekit.E006"
    assert says in found.msg and "QUEUE" in (found.hint or "")


# -- the database backend and its real worker ------------------------------------------------

EVENTS = 50


@pytest.fixture
def database_backend(settings: Any) -> Any:
    """Deferred processing on django-tasks-db: the view writes each task into the test
    database, which a ``db_worker`` subprocess (``worker``) reads."""
    pytest.importorskip("django_tasks_db", reason="pip install 'stripekit[django-tasks]'")
    settings.STRIPEKIT = {
        **settings.STRIPEKIT,
        "BILLING": False,
        "PROCESSING": "deferred",
        "QUEUE": "stripekit_django.tasks.queue",
    }
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        yield


HERE = Path(__file__).resolve().parent
PATH = [str(HERE), str(HERE.parent / "support"), *sys.path]
"""The processes' PYTHONPATH: the test project, then the test helpers."""


@pytest.fixture
def project_env(database_backend: Any) -> dict[str, str]:
    """The environment of the project's processes (django_project.worker_settings): the
    test's own SQLite file, the database task backend, deferred processing."""
    from django.db import connection

    database = str(connection.settings_dict["NAME"])
    assert Path(database).is_file(), "the processes share a file database, not one in memory"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "django_project.worker_settings",
        "PYTHONPATH": os.pathsep.join(PATH),
        "STRIPEKIT_WORKER_DATABASE": database,
    }


@pytest.fixture
def worker(project_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Makes ``manage.py db_worker`` processes on the test's own SQLite file (each stopped
    at the end of the test, killed if it does not stop); their output goes to worker.log."""
    env = project_env
    made: list[Worker] = []

    def make(worker_id: str, *options: str) -> Worker:
        command = [
            sys.executable, "-m", "django", "db_worker", "--worker-id", worker_id,
            "--no-startup-delay", "--interval", "0.05", "--no-reload", *options,
        ]  # fmt: skip
        made.append(Worker(command, env, tmp_path / "worker.log"))
        return made[-1]

    yield make
    for started in made:
        started.stop()


def task_results() -> list[Any]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.all())


def orders() -> Counter[str]:
    return Counter(Order.objects.values_list("session_id", flat=True))


def test_a_db_worker_killed_mid_way_every_event_has_its_effect_once(
    worker: Callable[..., Worker], client: Client
) -> None:
    ids = [f"evt_kill_{n:03}" for n in range(EVENTS)]
    # One handler hangs in the worker (its order written, not committed): the kill comes
    # in the middle of it, whatever the machine's speed.
    stuck = ids[EVENTS // 5]
    for event_id in ids:
        email = "hang@b.c" if event_id == stuck else "a@b.c"
        assert deliver(client, event_id, email).json()["status"] == "queued"
    assert [r.status for r in task_results()] == ["READY"] * EVENTS
    assert not Order.objects.exists()
    store = get_kit().store

    first = worker("first").start()
    wait_until(
        lambda: store.get(stuck).status is EventStatus.PROCESSING,  # type: ignore[union-attr]
        "the worker is in the hanging handler",
        first.log,
    )
    first.kill()
    assert f"cs_{stuck}" not in orders() and len(orders()) < EVENTS

    second = worker("second").start()

    def drained() -> bool:
        # No task waits, and the only one running is the one the dead worker had taken:
        # django-tasks-db gives no task of a dead worker to another.
        results = task_results()
        return not any(
            r.status == "READY" or (r.status == "RUNNING" and r.worker_ids != ["first"])
            for r in results
        )

    wait_until(drained, "the second worker ran every task left", second.log)
    (lost,) = [r for r in task_results() if r.status == "RUNNING"]
    assert lost.args_kwargs["args"] == [stuck]
    assert store.get(stuck).status is EventStatus.PROCESSING  # type: ignore[union-attr]
    # Its event, held by a process that is gone, is the sweeper's: taken over at once.
    report = get_kit().sweep(grace=0)
    assert [(r.event_id, r.outcome) for r in report.results] == [(stuck, "processed")]

    assert orders() == {f"cs_{event_id}": 1 for event_id in ids}
    assert {store.get(e).status for e in ids} == {EventStatus.PROCESSED}  # type: ignore[union-attr]
    assert get_kit().sweep(grace=0).results == []
    # Every other task finished, each running its event once.
    done = [r for r in task_results() if r.status != "RUNNING"]
    assert {r.status for r in done} == {"SUCCESSFUL"} and len(done) == EVENTS - 1
    assert [r.return_value for r in done] == ["processed"] * (EVENTS - 1)


def test_the_same_task_enqueued_twice_runs_the_handlers_once(
    worker: Callable[..., Worker], client: Client
) -> None:
    assert deliver(client, "evt_twice").json()["status"] == "queued"
    get_kit().queue.enqueue("evt_twice")  # the same task again, as a redelivery would
    assert deliver(client, "evt_bad", email="fail@b.c").json()["status"] == "queued"
    assert len(task_results()) == 3

    batch = worker("batch", "--batch").start()  # runs what is there, then exits
    wait_until(lambda: not batch.alive(), "the batch worker finished", batch.log)

    by_event: dict[str, list[Any]] = {}
    for result in task_results():
        by_event.setdefault(result.args_kwargs["args"][0], []).append(result)
    twice = sorted(r.return_value for r in by_event["evt_twice"])
    assert twice == ["duplicate", "processed"]
    assert orders() == {"cs_evt_twice": 1}  # evt_bad's order rolled back with its failure
    (bad,) = by_event["evt_bad"]
    assert bad.status == "FAILED" and "DeferredProcessingError" in bad.exception_class_path
    failed = get_kit().store.get("evt_bad")
    assert failed is not None and failed.status is EventStatus.FAILED and failed.last_error


def test_events_posted_over_http_while_the_db_worker_runs_each_have_their_effect_once(
    worker: Callable[..., Worker], project_env: dict[str, str], tmp_path: Path
) -> None:
    """The project's webhook route served by uvicorn (Django's ASGI app) in a process of its
    own, the db_worker running: every delivery answered 200, each event run once, the two
    copies of each posted at the same time."""
    worker("live").start()
    env = dict(project_env)
    server = Server(
        env["STRIPEKIT_WORKER_DATABASE"],
        tmp_path / "server.log",
        app="django.core.asgi:get_asgi_application",
        path=env.pop("PYTHONPATH").split(os.pathsep),
        env=env,
    )
    try:
        server.start()
        ids = [f"evt_http_{n:02}" for n in range(20)]
        requests = {event_id: raw_request(*signed_session(event_id)) for event_id in ids}
        copies = [(event_id, requests[event_id]) for event_id in ids for _ in range(2)]

        answers = asyncio.run(send_all(server.port, copies, connections=8))
        assert Counter(answers) == {(event_id, 200): 2 for event_id in ids}

        store = get_kit().store
        logs = [tmp_path / "worker.log", tmp_path / "server.log"]
        wait_until(
            lambda: {store.get(e).status for e in ids} == {EventStatus.PROCESSED},  # type: ignore[union-attr]
            "every event processed",
            logs,
        )
    finally:
        server.stop()
    assert orders() == {f"cs_{event_id}": 1 for event_id in ids}
    # A copy that came while its event was queued sent a second task, which found it done
    # (or held); none failed, and each event was processed by one task.
    wait_until(lambda: {r.status for r in task_results()} == {"SUCCESSFUL"}, "tasks done", logs)
    processed = Counter(
        r.args_kwargs["args"][0] for r in task_results() if r.return_value == "processed"
    )
    assert processed == dict.fromkeys(ids, 1)
