"""The webhook server the reliability tests run, kill and restart (uvicorn --factory).

Its handler does what a careful app does: its effect (a row in `effects`) is
written once per event whatever the number of runs (the row's absence is
checked in the same transaction), and every run is counted in `runs`, so a
test can tell "ran twice" from "had its effect twice".

Environment: RELIABILITY_DATABASE_URL (the event store and the app's tables),
RELIABILITY_SECRET (the webhook secret).
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.routing import Mount

from stripekit import Event, StripeKit, WebhookRegistry
from stripekit_fastapi import stripekit_routes

TABLES = (
    "CREATE TABLE IF NOT EXISTS effects (event_id VARCHAR(255) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS runs (event_id VARCHAR(255) NOT NULL)",
)


def create_app() -> Starlette:
    url = os.environ["RELIABILITY_DATABASE_URL"]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for statement in TABLES:
            conn.execute(text(statement))
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid", "customer.created")
    def fulfil(event: Event) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO runs VALUES (:id)"), {"id": event.id})
            conn.execute(
                text(
                    "INSERT INTO effects SELECT CAST(:id AS VARCHAR(255)) WHERE NOT EXISTS "
                    "(SELECT 1 FROM effects WHERE event_id = CAST(:id AS VARCHAR(255)))"
                ),
                {"id": event.id},
            )

    kit = StripeKit(
        webhook_secret=os.environ["RELIABILITY_SECRET"],
        database_url=url,
        webhooks=webhooks,
        claim_lease=300,  # long: a worker that died must be taken over by its holder, not by time
    )
    return Starlette(routes=[Mount("/stripe", routes=stripekit_routes(kit))])
