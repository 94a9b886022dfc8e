"""Prometheus metrics: deliveries counted per kit, the store's backlog read at each scrape."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from stripekit import MemoryEventStore, StripeKit
from stripekit.testing import signed_event
from stripekit.webhooks._metrics import KitMetrics

SECRET = "whsec_metrics"
TOKEN = "metrics-token-for-tests"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class BrokenStore(MemoryEventStore):
    def backlog(self) -> Any:
        raise ConnectionError("could not connect")


def _kit(**options: Any) -> StripeKit:
    options.setdefault("store", MemoryEventStore())
    kit = StripeKit(webhook_secret=SECRET, metrics_token=TOKEN, **options)

    @kit.webhooks.on("invoice.payment_failed")
    def notify(event: Any) -> None:
        raise RuntimeError("the mailer is down")

    @kit.webhooks.on("invoice.paid")
    def fulfil(event: Any) -> None:
        pass

    return kit


def _deliver(kit: StripeKit, event_type: str, event_id: str) -> int:
    body, headers = signed_event(event_type, secret=SECRET, id=event_id)
    return kit.handle_webhook(body, headers).status


def _value(kit: StripeKit, name: str, **labels: str) -> float | None:
    return kit.metrics.registry.get_sample_value(name, labels)


def test_deliveries_are_counted_by_outcome_and_type() -> None:
    kit = _kit()
    _deliver(kit, "invoice.paid", "evt_m1")
    _deliver(kit, "invoice.paid", "evt_m1")
    _deliver(kit, "invoice.payment_failed", "evt_m2")
    _deliver(kit, "customer.created", "evt_m3")
    body, headers = signed_event("invoice.paid", secret="whsec_other")
    kit.handle_webhook(body, headers)

    total = "stripekit_webhook_deliveries_total"
    assert _value(kit, total, outcome="processed", event_type="invoice.paid") == 1
    assert _value(kit, total, outcome="duplicate", event_type="invoice.paid") == 1
    assert _value(kit, total, outcome="failed", event_type="invoice.payment_failed") == 1
    assert _value(kit, total, outcome="unhandled", event_type="customer.created") == 1
    assert _value(kit, total, outcome="rejected", event_type="") == 1
    failures = "stripekit_webhook_handler_failures_total"
    handler = "_kit.<locals>.notify"
    assert _value(kit, failures, event_type="invoice.payment_failed", handler=handler) == 1
    assert _value(kit, "stripekit_webhook_duration_seconds_count", outcome="processed") == 1


def test_replays_are_counted_too() -> None:
    kit = _kit()
    _deliver(kit, "invoice.payment_failed", "evt_m4")
    kit.replay("evt_m4")

    total = "stripekit_webhook_deliveries_total"
    assert _value(kit, total, outcome="failed", event_type="invoice.payment_failed") == 2


def test_the_backlog_is_read_from_the_store_at_each_scrape() -> None:
    now = [T0]
    store = MemoryEventStore(clock=lambda: now[0])
    kit = _kit(store=store)
    _deliver(kit, "invoice.payment_failed", "evt_m5")
    metrics = KitMetrics(store, clock=lambda: T0 + timedelta(minutes=5))
    registry = metrics.registry

    assert registry.get_sample_value("stripekit_events", {"status": "failed"}) == 1
    assert registry.get_sample_value("stripekit_events", {"status": "processing"}) == 0
    age = registry.get_sample_value("stripekit_oldest_event_age_seconds", {"status": "failed"})
    assert age == 300.0
    assert registry.get_sample_value("stripekit_event_store_up") == 1

    kit.replay("evt_m5")  # fails again: still one failed event
    assert registry.get_sample_value("stripekit_events", {"status": "failed"}) == 1


def test_a_store_that_does_not_answer_is_down_not_an_error() -> None:
    metrics = KitMetrics(BrokenStore())

    assert metrics.registry.get_sample_value("stripekit_event_store_up") == 0
    assert metrics.registry.get_sample_value("stripekit_events", {"status": "failed"}) is None


def test_two_kits_in_one_process_count_apart() -> None:
    first, second = _kit(), _kit()
    _deliver(first, "invoice.paid", "evt_m6")

    total = "stripekit_webhook_deliveries_total"
    assert _value(first, total, outcome="processed", event_type="invoice.paid") == 1
    assert _value(second, total, outcome="processed", event_type="invoice.paid") is None


def test_a_kit_joins_the_apps_registry_once() -> None:
    registry = CollectorRegistry()
    kit = _kit()
    registry.register(kit.metrics)
    _deliver(kit, "invoice.paid", "evt_m7")

    labels = {"outcome": "processed", "event_type": "invoice.paid"}
    assert registry.get_sample_value("stripekit_webhook_deliveries_total", labels) == 1
    # A second kit's metrics have the same names: prometheus-client refuses them.
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(_kit().metrics)


def test_the_scrape_wants_the_token() -> None:
    kit = _kit()
    _deliver(kit, "invoice.paid", "evt_m8")

    assert kit.scrape_metrics(None).status == 401
    assert kit.scrape_metrics("Bearer wrong").status == 401
    assert kit.scrape_metrics(f"Basic {TOKEN}").status == 401
    refused = kit.scrape_metrics(None)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"invoice" not in refused.body
    answer = kit.scrape_metrics(f"Bearer {TOKEN}")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert (
        b'stripekit_webhook_deliveries_total{event_type="invoice.paid",outcome="processed"} 1.0'
        in answer.body
    )


def test_without_a_token_the_route_is_off() -> None:
    kit = StripeKit(webhook_secret=SECRET, store="memory://")

    answer = kit.scrape_metrics("Bearer anything")

    assert answer.status == 404
    assert b"STRIPEKIT_METRICS_TOKEN" in answer.body


def test_metrics_can_be_turned_off() -> None:
    kit = _kit(metrics=False)
    _deliver(kit, "invoice.paid", "evt_m9")

    assert kit._observer.metrics is None
    assert kit.scrape_metrics(f"Bearer {TOKEN}").status == 404


def test_without_prometheus_client_the_kit_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stripekit import MissingExtraError

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    kit = _kit(metrics=True)

    with pytest.raises(MissingExtraError, match=r"\[metrics\]"):
        _ = kit.metrics
    answer = kit.scrape_metrics(f"Bearer {TOKEN}")
    assert answer.status == 501
    assert b"stripekit[metrics]" in answer.body


_WORKER = """
import sys
from stripekit import MemoryEventStore, StripeKit
from stripekit.testing import signed_event

kit = StripeKit(webhook_secret="whsec_mp", store=MemoryEventStore(), metrics_token="t")
kit.webhooks.register("invoice.paid", lambda event: None)
for n in range(int(sys.argv[1])):
    body, headers = signed_event("invoice.paid", secret="whsec_mp", id=f"evt_{sys.argv[2]}_{n}")
    kit.handle_webhook(body, headers)
if sys.argv[2] == "last":
    print(kit.scrape_metrics("Bearer t").body.decode())
"""


def test_several_worker_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    """PROMETHEUS_MULTIPROC_DIR, as under uvicorn --workers N: a scrape sums every worker."""
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(_WORKER))
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, str(script)]
    subprocess.run([*run, "2", "first"], env=env, check=True, timeout=60)
    out = subprocess.run(
        [*run, "3", "last"], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout

    line = 'stripekit_webhook_deliveries_total{event_type="invoice.paid",outcome="processed"} 5.0'
    assert line in out
