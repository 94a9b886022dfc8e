"""The servers benchmarks/webhook_endpoint.py compares do the work they are named for.

A benchmark whose kit answered without recording, or whose floor skipped the
signature, would measure nothing: each server here takes a signed delivery of
Stripe's own sample session and refuses a forged one; the kits record theirs.
And the split of the kit's time that the benchmark prints adds up.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi_shop import asgi_client

from stripekit.testing import event_body, make_event, sign_payload

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SECRET = "whsec_benchmark_test"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and annotations look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.setenv("BENCH_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("BENCH_DATABASE_URL", f"sqlite:///{tmp_path / 'events.sqlite3'}")
    return _module("_webhook_apps")


@asynccontextmanager
async def _serving(app: Any) -> AsyncIterator[Any]:
    """A client of the app, inside the app's lifespan (the kits close there)."""
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        yield client


def _delivery(session: dict[str, Any], event_id: str, secret: str) -> tuple[bytes, dict[str, str]]:
    body = event_body(make_event("checkout.session.completed", session, id=event_id))
    headers = {"Stripe-Signature": sign_payload(body, secret), "Content-Type": "application/json"}
    return body, headers


@pytest.mark.parametrize(
    "server",
    ["kit", "kit_sync", "kit_billing", "kit_deferred", "kit_lane", "kit_memory", "baseline",
     "floor", "fastapi_floor"],
)  # fmt: skip
async def test_each_server_takes_a_signed_delivery_and_refuses_a_forged_one(
    apps: ModuleType, server: str, stripe_fixtures: dict[str, Any]
) -> None:
    session = {**stripe_fixtures["checkout.session"], "id": "cs_test_bench_1"}
    async with _serving(getattr(apps, f"{server}_app")()) as client:
        body, headers = _delivery(session, "evt_bench_1", SECRET)
        answer = await client.post("/stripe/webhook", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        body, forged = _delivery(session, "evt_bench_2", "whsec_someone_else")
        answer = await client.post("/stripe/webhook", content=body, headers=forged)
        assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    ("server", "status"),
    [("kit", "processed"), ("kit_sync", "processed"), ("kit_billing", "processed"),
     ("kit_deferred", "queued"), ("kit_lane", "processed")],
)  # fmt: skip
async def test_the_sqlite_kits_record_every_event(
    apps: ModuleType,
    server: str,
    status: str,
    tmp_path: Path,
    stripe_fixtures: dict[str, Any],
) -> None:
    async with _serving(getattr(apps, f"{server}_app")()) as client:
        for i in range(3):
            session = {**stripe_fixtures["checkout.session"], "id": f"cs_test_bench_{i}"}
            body, headers = _delivery(session, f"evt_bench_{i}", SECRET)
            answer = await client.post("/stripe/webhook", content=body, headers=headers)
            assert answer.status_code == 200, answer.text
    with closing(sqlite3.connect(tmp_path / "events.sqlite3")) as db:
        rows = db.execute("SELECT id, status FROM stripekit_events ORDER BY id").fetchall()
    assert rows == [(f"evt_bench_{i}", status) for i in range(3)]


async def test_the_memory_kit_writes_no_file(
    apps: ModuleType, tmp_path: Path, stripe_fixtures: dict[str, Any]
) -> None:
    async with _serving(apps.kit_memory_app()) as client:
        body, headers = _delivery(stripe_fixtures["checkout.session"], "evt_bench_m", SECRET)
        answer = await client.post("/stripe/webhook", content=body, headers=headers)
        assert json.loads(answer.content) == {"status": "processed", "event": "evt_bench_m"}
        # The same event again: the in-memory store still deduplicates.
        again = await client.post("/stripe/webhook", content=body, headers=headers)
        assert json.loads(again.content)["status"] == "duplicate"
    assert not (tmp_path / "events.sqlite3").exists()


def test_the_lane_kit_answers_before_fastapis_routing(apps: ModuleType) -> None:
    from stripekit_fastapi import WebhookMiddleware

    app = apps.kit_lane_app()
    assert [m.cls for m in app.user_middleware] == [WebhookMiddleware]
    assert "/stripe/webhook" in app.openapi()["paths"]  # the route stays mounted


def test_the_time_split_adds_up_to_the_kits_distance_from_the_floor() -> None:
    bench = _module("webhook_endpoint")
    line = bench._where_the_time_goes(
        {"floor": 10_000, "fastapi_floor": 5_000, "kit_memory": 4_000, "kit": 2_500}
    )
    # 100 us floor; +100 FastAPI; +50 the kit's own work; +150 SQLite: 400 us in all.
    assert line == (
        "per request: floor 100 us; kit 400 us = floor FastAPI +100, "
        "kit (in-memory store) +50, SQLite store +150"
    )
    assert bench._where_the_time_goes({"floor": 10_000, "kit": 2_500}) == ""
