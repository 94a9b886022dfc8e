"""Prometheus metrics of a kit's deliveries and of its event store (extra ``metrics``).

Each kit has its own metric objects, registered in no registry: two kits in one
process (tests, an app serving two Stripe accounts) never clash in
prometheus-client's global registry. ``KitMetrics`` is a prometheus-client
collector; the ``/stripe/metrics`` route renders it, or an app adds it to the
registry it already exposes (``REGISTRY.register(kit.metrics)``).

Counted per delivery (on the hot path: a label lookup and an increment):

- ``stripekit_webhook_deliveries_total{outcome, event_type}``
- ``stripekit_webhook_handler_failures_total{event_type, handler}``
- ``stripekit_webhook_duration_seconds{outcome}`` (a histogram)

Read from the store at each scrape (``EventStore.backlog``, one cheap query):

- ``stripekit_events{status}``: events in each status that is not final
- ``stripekit_oldest_event_age_seconds{status}``: the oldest one's age (0 if none)
- ``stripekit_event_store_up``: 1 if the store answered, else 0

With several worker processes (``uvicorn --workers N``, gunicorn), a scrape
reaches one of them: set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode) and the delivery metrics are summed over every process.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import TYPE_CHECKING, Any

from stripekit._errors import MissingExtraError
from stripekit._extras import needs_extra

from ._health import age
from ._store import OPEN_STATUSES

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from ._observe import DeliveryStats, WebhookResult
    from ._store import EventStore

__all__ = ["DURATION_BUCKETS", "KitMetrics", "ScrapeAnswer", "scrape"]

logger = logging.getLogger("stripekit.webhooks")

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds: a delivery takes from under a millisecond (a duplicate) to the handler budget."""

PREFIX = "stripekit_"


class KitMetrics:
    """One kit's metrics; a prometheus-client collector.

    Example:
        >>> from prometheus_client import generate_latest
        >>> from stripekit import MemoryEventStore
        >>> metrics = KitMetrics(MemoryEventStore())
        >>> b"stripekit_event_store_up 1.0" in generate_latest(metrics.registry)
        True
    """

    def __init__(self, store: EventStore, *, clock: Callable[[], datetime] | None = None) -> None:
        with needs_extra("stripekit metrics"):
            from prometheus_client import CollectorRegistry, Counter, Histogram
        self.store = store
        self._now = clock or _utcnow
        self.deliveries = Counter(
            "stripekit_webhook_deliveries",
            "Webhook deliveries and replays, by outcome and event type.",
            ["outcome", "event_type"],
            registry=None,
        )
        self.handler_failures = Counter(
            "stripekit_webhook_handler_failures",
            "Handlers that raised or ran out of time, by event type and handler.",
            ["event_type", "handler"],
            registry=None,
        )
        self.duration = Histogram(
            "stripekit_webhook_duration_seconds",
            "Seconds from a delivery's arrival to its answer, by outcome.",
            ["outcome"],
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self._multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=False)
        """A registry holding only this kit's metrics (what ``/stripe/metrics`` renders)."""
        self.registry.register(self)

    # -- recording (the hot path) ----------------------------------------------------------

    def observe(self, result: WebhookResult, stats: DeliveryStats) -> None:
        """Count one delivery (``DeliveryObserver.finish`` calls it)."""
        event = stats.event
        event_type = event.type if event is not None else ""
        outcome = result.outcome
        self.deliveries.labels(outcome, event_type).inc()
        self.duration.labels(outcome).observe(perf_counter() - stats.started)
        if stats.failed_handler is not None:
            self.handler_failures.labels(event_type, stats.failed_handler).inc()

    # -- the collector (a scrape) ----------------------------------------------------------

    def describe(self) -> list[Metric]:
        """The metrics' names, so that a registry checks them without asking the store."""
        return [*self._delivery_metrics(), *self._store_metrics(None)]

    def collect(self) -> Iterator[Metric]:
        """The delivery metrics, then the store's backlog, read now."""
        yield from self._delivery_metrics()
        try:
            backlog = self.store.backlog()
        except Exception as exc:
            logger.error("metrics: the event store did not answer: %s", exc)
            backlog = None
        yield from self._store_metrics(backlog, up=backlog is not None)

    def render(self) -> bytes:
        """The text exposition format, as ``/stripe/metrics`` sends it (it asks the store:
        call it from a worker thread in async code)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    def _delivery_metrics(self) -> Iterator[Metric]:
        if self._multiprocess:
            from prometheus_client import CollectorRegistry
            from prometheus_client.multiprocess import MultiProcessCollector

            # Every worker's files, summed; only this library's metrics.
            everyone = MultiProcessCollector(CollectorRegistry(auto_describe=False))  # type: ignore[no-untyped-call]
            for metric in everyone.collect():  # type: ignore[no-untyped-call]
                if metric.name.startswith(PREFIX + "webhook_"):
                    yield metric
            return
        for metric_object in (self.deliveries, self.handler_failures, self.duration):
            yield from metric_object.collect()

    def _store_metrics(self, backlog: Any, *, up: bool = True) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        events = GaugeMetricFamily(
            "stripekit_events",
            "Events in each status that is not final (read from the event store).",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "stripekit_oldest_event_age_seconds",
            "Seconds since the oldest event of each status that is not final was received.",
            labels=["status"],
        )
        store_up = GaugeMetricFamily(
            "stripekit_event_store_up", "1 if the event store answered the scrape, else 0."
        )
        if backlog is not None:
            now = self._now()
            for status in OPEN_STATUSES:
                entry = backlog.get(status)
                events.add_metric([status.value], entry.count if entry is not None else 0)
                oldest.add_metric([status.value], age(entry, now) or 0.0)
        store_up.add_metric([], 1.0 if up else 0.0)
        yield events
        yield oldest
        yield store_up


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ScrapeAnswer:
    """What ``GET /stripe/metrics`` answers: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


def _json(status: int, error: str, **headers: str) -> ScrapeAnswer:
    body = json.dumps({"error": error}).encode()
    return ScrapeAnswer(status, {"Content-Type": "application/json", **headers}, body)


def scrape(
    metrics: Callable[[], KitMetrics | None], token: str | None, authorization: str | None
) -> ScrapeAnswer:
    """Decide a scrape: 404 while no token is set, 401 without the right bearer token,
    501 without prometheus-client, 404 with metrics off, else 200 and the metrics.

    The metrics tell how many checkouts complete and how fast: the shop's sales rate.
    So they are for the operator's Prometheus only, which sends the token
    (``authorization: {credentials: ...}`` in its scrape config).
    """
    if not token:
        return _json(404, "metrics are off: set STRIPEKIT_METRICS_TOKEN to serve them here")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return _json(401, "send the metrics token: Authorization: Bearer ...",
                     **{"WWW-Authenticate": 'Bearer realm="stripekit metrics"'})  # fmt: skip
    try:
        found = metrics()
    except MissingExtraError:
        return _json(501, 'metrics need prometheus-client: pip install "stripekit[metrics]"')
    if found is None:
        return _json(404, "metrics are off (STRIPEKIT_METRICS=false)")
    from prometheus_client import CONTENT_TYPE_LATEST

    return ScrapeAnswer(200, {"Content-Type": CONTENT_TYPE_LATEST}, found.render())
