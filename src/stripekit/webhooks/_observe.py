"""What each delivery tells its operator: one structured log record, metrics, trace spans.

A delivery (``process``/``aprocess``, ``replay``/``areplay``) carries a
``DeliveryStats`` through the pipeline: where its time went (the store's calls,
the handlers) and its spans. When it ends, ``DeliveryObserver.finish`` writes
one record on the ``stripekit.webhooks.delivery`` logger, with the fields as
``extra=`` attributes (``event_id``, ``event_type``, ``account``, ``outcome``,
``status``, ``attempts``, ``handler_ms``, ``store_ms``, ``duration_ms``,
``via``), so that a JSON formatter or structlog picks them up, and counts it in
the metrics if the kit has them.

All of it is on the hot path: a few ``perf_counter`` calls per delivery, and
nothing formatted unless the logger is enabled for the record's level.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

from ._tracing import current_tracer

if TYPE_CHECKING:
    from stripekit._types import JSONObject

    from ._event import Event

__all__ = ["DELIVERY_LOGGER", "DeliveryObserver", "DeliveryStats"]

DELIVERY_LOGGER = "stripekit.webhooks.delivery"
"""The logger of the one-record-per-delivery log."""

log = logging.getLogger(DELIVERY_LOGGER)

_WARNING_OUTCOMES = frozenset({"failed", "rejected", "unavailable", "error", "missing"})
"""Outcomes logged at WARNING; the others (processed, duplicate, unhandled, ignored,
in_flight: all normal) at INFO."""

_NOTHING: AbstractContextManager[Any] = nullcontext()


class WebhookResult(Protocol):
    """What ``_dispatch.WebhookResult`` offers (named here: that module imports this one)."""

    @property
    def status(self) -> int: ...
    @property
    def body(self) -> JSONObject: ...
    @property
    def outcome(self) -> str: ...
    @property
    def event_id(self) -> str | None: ...


class DeliveryStats:
    """One delivery's measurements, filled in as it goes through the pipeline."""

    __slots__ = (
        "attempts",
        "event",
        "failed_handler",
        "handler_s",
        "root",
        "started",
        "store_s",
        "tracer",
    )

    def __init__(self, tracer: Any = None) -> None:
        self.started = perf_counter()
        self.store_s = 0.0
        """Seconds spent in event-store calls (claim, complete/fail, the unit of work)."""
        self.handler_s = 0.0
        """Seconds spent in the handlers."""
        self.event: Event | None = None
        self.attempts: int | None = None
        self.failed_handler: str | None = None
        self.tracer = tracer
        """An OpenTelemetry tracer while one is configured, else None (no spans)."""
        self.root: Any = None

    def span(self, name: str) -> AbstractContextManager[Any]:
        """A child span of the delivery's (a shared no-op while tracing is off)."""
        if self.tracer is None:
            return _NOTHING
        span: AbstractContextManager[Any] = self.tracer.start_as_current_span(name)
        return span

    def handler_span(self, handler: object) -> AbstractContextManager[Any]:
        """The span of one handler's run, named after it."""
        if self.tracer is None:
            return _NOTHING
        name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
        span: AbstractContextManager[Any] = self.tracer.start_as_current_span(
            "stripekit.webhook.handler", attributes={"code.function": name}
        )
        return span


class DeliveryMetrics(Protocol):
    """What records deliveries in metrics (``stripekit.webhooks._metrics``)."""

    def observe(self, result: WebhookResult, stats: DeliveryStats) -> None: ...


class DeliveryObserver:
    """Starts each delivery's stats and reports it when it ends (log, metrics, span).

    Example:
        >>> observer = DeliveryObserver()
        >>> stats = observer.start()
        >>> stats.store_s, stats.handler_s
        (0.0, 0.0)
    """

    def __init__(self, metrics: DeliveryMetrics | None = None) -> None:
        self.metrics = metrics

    def start(self) -> DeliveryStats:
        """New stats for a delivery beginning now (with a tracer if tracing is on)."""
        return DeliveryStats(current_tracer())

    def root_span(self, stats: DeliveryStats, name: str) -> AbstractContextManager[Any]:
        """The span around the whole delivery; ``finish`` sets its attributes."""
        tracer = stats.tracer
        if tracer is None:
            return _NOTHING
        return _RootSpan(stats, tracer, name)

    def finish(self, stats: DeliveryStats, result: WebhookResult, via: str) -> None:
        """Report a delivery that ended with ``result``; ``via`` is webhook or replay."""
        if stats.root is not None:
            _describe_span(stats.root, stats, result)
        if self.metrics is not None:
            self.metrics.observe(result, stats)
        level = logging.WARNING if result.outcome in _WARNING_OUTCOMES else logging.INFO
        if log.isEnabledFor(level):
            _log(level, stats, result, via)


def _log(level: int, stats: DeliveryStats, result: WebhookResult, via: str) -> None:
    event = stats.event
    event_id = result.event_id or (event.id if event is not None else None)
    event_type = event.type if event is not None else None
    duration_ms = round((perf_counter() - stats.started) * 1000, 3)
    fields = {
        "event_id": event_id,
        "event_type": event_type,
        "account": event.account if event is not None else None,
        "outcome": result.outcome,
        "status": result.status,
        "attempts": stats.attempts,
        "handler_ms": round(stats.handler_s * 1000, 3),
        "store_ms": round(stats.store_s * 1000, 3),
        "duration_ms": duration_ms,
        "via": via,
    }
    if event_id is None:
        # Refused before it was read: what was wrong (never a secret, never the body).
        error = result.body.get("error", "")
        log.log(level, "webhook %s (%d): %s", result.outcome, result.status, error, extra=fields)
        return
    failed = f" in {stats.failed_handler}" if stats.failed_handler else ""
    log.log(
        level,
        "%s %s%s: %s%s, %d, %.1f ms",
        via,
        event_id,
        f" ({event_type})" if event_type else "",
        result.outcome,
        failed,
        result.status,
        duration_ms,
        extra=fields,
    )


class _RootSpan:
    """The delivery's span, kept on the stats so that ``finish`` can describe it."""

    __slots__ = ("_context", "_name", "_stats", "_tracer")

    def __init__(self, stats: DeliveryStats, tracer: Any, name: str) -> None:
        self._stats = stats
        self._tracer = tracer
        self._name = name
        self._context: Any = None

    def __enter__(self) -> Any:
        self._context = self._tracer.start_as_current_span(self._name)
        span = self._context.__enter__()
        self._stats.root = span
        return span

    def __exit__(self, *exc_info: Any) -> bool | None:
        result: bool | None = self._context.__exit__(*exc_info)
        return result


def _describe_span(span: Any, stats: DeliveryStats, result: WebhookResult) -> None:
    event = stats.event
    attributes: dict[str, Any] = {
        "stripekit.outcome": result.outcome,
        "http.response.status_code": result.status,
    }
    if result.event_id is not None:
        attributes["stripe.event.id"] = result.event_id
    if event is not None:
        attributes["stripe.event.type"] = event.type
        if event.account is not None:
            attributes["stripe.account"] = event.account
    if stats.attempts is not None:
        attributes["stripekit.attempts"] = stats.attempts
    span.set_attributes(attributes)
    if result.status >= 500:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, result.outcome))
