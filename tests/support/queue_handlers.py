"""The handlers of the shop the queue tests run (its ``shop/handlers.py``, which the
documented ``tasks.py`` imports: docs/scale.md, "Queue adapters").

They do what a careful app does: the effect is a row keyed by the event id (written at
most once, ON CONFLICT DO NOTHING), and every run is counted in ``runs``, so a test
tells "ran twice" from "had its effect twice". An invoice whose object says
``fail_first`` fails its first run; one that says ``hang_first`` never returns from its
first run (a test kills its worker in the middle of it).
"""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from stripekit import Event, WebhookRegistry

TABLES = (
    "CREATE TABLE IF NOT EXISTS effects (event_id VARCHAR(255) PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS runs (event_id VARCHAR(255) NOT NULL)",
)

SHOP_HANDLERS = '''"""The shop's webhook handlers (tests/support/queue_handlers.py)."""

import os

from queue_handlers import fulfilment

webhooks, _engine = fulfilment(os.environ["STRIPEKIT_DATABASE_URL"])
'''
"""``shop/handlers.py`` of the test's project: the handlers on the event store's database."""


def create_tables(database_url: str) -> None:
    """The handler's tables (once, by the test, before any process uses them)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for statement in TABLES:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def fulfilment(database_url: str) -> tuple[WebhookRegistry, Engine]:
    """The handlers (on ``invoice.paid``), and the engine they write with."""
    engine = create_engine(database_url, pool_size=8)
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
        if event.object.get("hang_first") and runs == 1:
            threading.Event().wait()
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO effects VALUES (:id) ON CONFLICT DO NOTHING"), {"id": event.id}
            )

    return webhooks, engine
