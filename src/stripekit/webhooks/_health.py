"""The health check: is the event store reachable, and how many events wait.

Both integrations' ``/stripe/health`` routes answer with it: 200 and the
counts while the store answers, 503 when it does not. A stranger may call the
route (load balancers and uptime checks do, without credentials), so the
answer holds counts and ages only: never an event id, an error message, the
database's address or anything a handler wrote.

The answer is kept for ``cache_seconds`` (1 s): however often the route is
called, the store gets one cheap query a second from each process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

from ._store import OPEN_STATUSES, EventStatus, StatusBacklog

if TYPE_CHECKING:
    from stripekit._types import JSONObject

    from ._store import EventStore

__all__ = ["HealthReport", "StoreHealth", "unavailable"]

logger = logging.getLogger("stripekit.webhooks")

StoreCall = Callable[..., Awaitable[Any]]
"""How async code calls a store method (``Dispatcher.call_store``)."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What the health route answers.

    Attributes:
        status: 200 when the event store answered, 503 when it did not.
        body: ``{"store": "ok", "processing": 0, "failed": 2,
            "oldest_processing_age_s": null, "oldest_failed_age_s": 3600.0}`` (a count
            and an age for every status that is not final), or
            ``{"store": "unavailable"}``.
        backlog: the store's answer (empty when it did not answer).
    """

    status: int
    body: JSONObject
    backlog: Mapping[EventStatus, StatusBacklog] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the store answered."""
        return self.status == 200


class StoreHealth:
    """Asks an event store for its backlog and turns it into a ``HealthReport``.

    Example:
        >>> from stripekit import MemoryEventStore
        >>> report = StoreHealth(MemoryEventStore()).check()
        >>> report.status, report.body["store"], report.body["failed"]
        (200, 'ok', 0)
    """

    def __init__(
        self,
        store: EventStore,
        *,
        cache_seconds: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._now = clock or _utcnow
        self._cached: tuple[float, HealthReport] | None = None
        self._lock = threading.Lock()

    def check(self) -> HealthReport:
        """Ask the store (or reuse an answer younger than ``cache_seconds``)."""
        cached = self._fresh()
        if cached is not None:
            return cached
        try:
            backlog = self.store.backlog()
        except Exception as exc:
            return self._keep(unavailable(exc))
        return self._keep(self.report(backlog))

    async def acheck(self, call: StoreCall) -> HealthReport:
        """Async twin of ``check``: the store is asked through ``call`` (a worker thread
        given up on at the store's deadline, or SQLite's batches)."""
        cached = self._fresh()
        if cached is not None:
            return cached
        try:
            backlog = await call(self.store.backlog)
        except Exception as exc:
            return self._keep(unavailable(exc))
        return self._keep(self.report(backlog))

    def report(self, backlog: Mapping[EventStatus, StatusBacklog]) -> HealthReport:
        """The 200 answer for a store's backlog."""
        now = self._now()
        body: JSONObject = {"store": "ok"}
        for status in OPEN_STATUSES:
            body[status.value] = backlog.get(status, StatusBacklog()).count
        for status in OPEN_STATUSES:
            body[f"oldest_{status.value}_age_s"] = age(backlog.get(status), now)
        return HealthReport(200, body, dict(backlog))

    def _fresh(self) -> HealthReport | None:
        cached = self._cached
        if cached is not None and monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        return None

    def _keep(self, report: HealthReport) -> HealthReport:
        with self._lock:
            self._cached = (monotonic(), report)
        return report


def age(backlog: StatusBacklog | None, now: datetime) -> float | None:
    """Seconds since the oldest event of a status was received (None if there is none)."""
    if backlog is None or backlog.oldest is None:
        return None
    oldest = backlog.oldest
    if oldest.tzinfo is None:  # a database that keeps naive UTC (Django with USE_TZ off)
        oldest = oldest.replace(tzinfo=UTC)
    # Another machine's clock may run ahead of this one's: never a negative age.
    return round(max(0.0, (now - oldest).total_seconds()), 3)


def unavailable(exc: BaseException) -> HealthReport:
    """The 503 answer; ``exc`` is logged, never shown."""
    # The reason goes to the log, for the operator; the route says only that it failed.
    logger.error("health check: the event store did not answer: %s", exc)
    return HealthReport(503, {"store": "unavailable"})


def _utcnow() -> datetime:
    return datetime.now(UTC)
