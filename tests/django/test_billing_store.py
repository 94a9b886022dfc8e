"""The billing store suite (tests/support/billing_store_suite.py) on the Django ORM store.

On the test project's SQLite database and, where it is reachable, on PostgreSQL:
SQLite runs one writer at a time, so only PostgreSQL shows that 50 concurrent
spends queue on the balance's row and never take it below zero.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from billing_store_suite import *  # noqa: F403
from django.conf import settings
from django.db import connections

from stripekit.billing._store import COLUMNS, Kind
from stripekit_django.billing import DjangoBillingStore

T = TypeVar("T")

_PG = ["default", "pg"] if "pg" in settings.DATABASES else ["default"]


class _ThreadTidyStore(DjangoBillingStore):
    """Closes a worker thread's connection after each transaction.

    Django leaves a thread's connection open until that thread closes it (a
    request's end does, in a site); the suite's threads, and the one the async
    twin runs on, know nothing of Django.
    """

    def run(self, work: Callable[[Any], T]) -> T:
        try:
            return super().run(work)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections[self.using].close()


@pytest.fixture(
    params=[
        pytest.param("default", marks=pytest.mark.django_db(transaction=True), id="sqlite"),
        pytest.param(
            "pg",
            marks=[pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=_PG)],
            id="postgres",
        ),
    ]
)
def billing_store(request: pytest.FixtureRequest) -> DjangoBillingStore:
    if request.param not in settings.DATABASES:
        from services import service_missing

        service_missing("PostgreSQL not reachable at 127.0.0.1:5432")
    return _ThreadTidyStore(using=request.param)


def test_each_kind_has_a_model_with_its_columns() -> None:
    from stripekit_django.models import MODELS

    assert set(MODELS) == set(Kind)
    for kind, model in MODELS.items():
        fields = {field.name for field in model._meta.get_fields()}
        assert {"id", "version", "event", "data", *COLUMNS[kind]} <= fields, kind
    assert {"user_ref", "linked_at"} <= {f.name for f in MODELS[Kind.CUSTOMER]._meta.get_fields()}


async def test_the_async_twin_leaves_the_loop_free(billing_store: DjangoBillingStore) -> None:
    """``arun`` runs its work off the loop: the loop answers while the work waits on it."""
    started, released = threading.Event(), threading.Event()

    def work(tx: Any) -> int:
        started.set()
        # Set by the loop below: a work run on the loop itself would wait here forever.
        assert released.wait(30), "the event loop was blocked"
        return int(tx.balance("user:ada"))

    running = asyncio.ensure_future(billing_store.arun(work))
    assert await asyncio.to_thread(started.wait, 30)
    released.set()
    assert await running == 0
