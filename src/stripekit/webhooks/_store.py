"""The event store protocol: every verified event is recorded before it is acknowledged.

``claim`` decides, atomically and in the database, which delivery of an event
runs its handlers::

    claim(event) ──▶ NEW        first delivery: run the handlers
                 ──▶ RETRY      an earlier attempt failed, or its lease ran out: run them again
                 ──▶ IN_FLIGHT  another worker holds a live lease: answer non-2xx, Stripe retries
                 ──▶ DUPLICATE  already processed (or ignored): answer 2xx, run nothing

then ``complete`` or ``fail`` with the claim's token. A worker whose lease ran
out and was taken over cannot overwrite the new holder's result.

``backlog`` answers the health route and the metrics: how many events wait in
each status that is not final, and since when.

In deferred mode the webhook route only records the event, ``QUEUED``
(``record_queued``); a task on the app's queue (or the sweeper) later takes it
with ``claim_for_replay``, which treats a queued event as it treats a failed
one. ``sweepable`` lists what the sweeper should try again.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from ._event import Event

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "WAITING_STATUSES",
    "Claim",
    "ClaimOutcome",
    "EventStatus",
    "EventStore",
    "StatusBacklog",
    "StoreCall",
    "StoredEvent",
]

_T = TypeVar("_T")


class ClaimOutcome(enum.Enum):
    """What ``EventStore.claim`` decided for one delivery."""

    NEW = "new"
    RETRY = "retry"
    IN_FLIGHT = "in_flight"
    DUPLICATE = "duplicate"

    @property
    def should_process(self) -> bool:
        """Whether this delivery runs the handlers."""
        return self in (ClaimOutcome.NEW, ClaimOutcome.RETRY)


class EventStatus(enum.StrEnum):
    """Where a recorded event stands."""

    PROCESSING = "processing"
    """Claimed by a worker whose lease may still be running."""
    PROCESSED = "processed"
    """Handlers ran and returned."""
    UNHANDLED = "unhandled"
    """No handler is registered for its type; recorded and acknowledged."""
    FAILED = "failed"
    """A handler raised; the next delivery (or a replay) runs it again."""
    IGNORED = "ignored"
    """Recorded but not dispatched (e.g. its livemode does not match the keys)."""
    QUEUED = "queued"
    """Recorded in deferred mode; a task on the app's queue (or the sweeper) will run it."""


FINAL_STATUSES = frozenset({EventStatus.PROCESSED, EventStatus.UNHANDLED, EventStatus.IGNORED})
WAITING_STATUSES = frozenset({EventStatus.QUEUED, EventStatus.FAILED})
"""Held by nobody and not final: any claim may take the event."""

OPEN_STATUSES = tuple(status for status in EventStatus if status not in FINAL_STATUSES)
"""The statuses of events still waiting for their handlers to succeed (processing,
failed, and any status added later that is not final): what ``backlog`` counts."""


@dataclass(frozen=True, slots=True)
class StatusBacklog:
    """How many events are in one status, and when the oldest of them was received.

    Attributes:
        count: the number of events in the status.
        oldest: the ``received_at`` of the oldest of them (None when there are none).
    """

    count: int = 0
    oldest: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer of ``EventStore.claim``.

    Attributes:
        outcome: what to do with this delivery.
        token: proof of holding the event; pass it to ``complete``/``fail``.
            Empty for IN_FLIGHT and DUPLICATE.
        attempts: how many times the handlers have been started, this one included.
    """

    outcome: ClaimOutcome
    token: str = ""
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One recorded event, as the store keeps it."""

    id: str
    type: str
    livemode: bool
    account: str | None
    created: datetime
    received_at: datetime
    payload: bytes
    """The raw body exactly as received, so its signature can be checked again."""
    status: EventStatus
    attempts: int
    last_error: str | None
    processed_at: datetime | None


@runtime_checkable
class EventStore(Protocol):
    """Where events are recorded; implementations must make ``claim`` atomic.

    ``blocking`` tells async callers to run the methods in a worker thread. A
    store may also have ``call_async(method, *args, **kwargs)``, which answers an
    awaitable of the method's result: async callers then run every method through
    it instead (the SQL store batches writes that way, many per commit: SQLite's
    claims and completions, PostgreSQL's completions). When that awaitable is a
    ``StoreCall``, a caller whose deadline passes sets its error on it and stops
    waiting, and the store hands the result that comes after to ``StoreCall.late``;
    any other awaitable is waited for under ``asyncio.timeout``, without cancelling it.
    """

    blocking: bool

    def claim(self, event: Event, *, lease: float) -> Claim:
        """Record the event if new and decide whether this delivery processes it."""
        ...

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        """Mark a claimed event PROCESSED or UNHANDLED; False if the claim was lost."""
        ...

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        """Mark a claimed event FAILED with the error; False if the claim was lost."""
        ...

    def claim_for_replay(
        self,
        event_id: str,
        *,
        lease: float,
        force: bool = False,
        max_attempts: int | None = None,
    ) -> tuple[Claim, StoredEvent | None]:
        """Take a recorded event over to run its handlers (``events replay``, a deferred
        task, the sweeper).

        RETRY (with a token) if it is QUEUED or FAILED or its lease ran out, or,
        with ``force``, if it is final (processed, unhandled, ignored); IN_FLIGHT
        while a live lease holds it; DUPLICATE if final and not forced. With
        ``max_attempts``, an event whose handlers already started that many
        times is not taken (IN_FLIGHT if processing, else DUPLICATE): the
        sweeper's retry budget, decided in the same atomic step. The
        StoredEvent is the row after the call (its payload is the raw body to
        verify and parse again); ``(Claim(DUPLICATE), None)`` if no such event.
        """
        ...

    def record_queued(self, event: Event) -> EventStatus | None:
        """Record a new event as QUEUED (deferred mode), committed when this returns.

        None if it was recorded now; else the status it already had (nothing changes).
        """
        ...

    def sweepable(self, *, grace: float, max_attempts: int, limit: int = 100) -> list[str]:
        """Ids of the events the sweeper should try, oldest received first: QUEUED for
        more than ``grace`` seconds, FAILED with fewer than ``max_attempts`` attempts,
        PROCESSING received more than ``grace`` seconds ago with fewer than
        ``max_attempts`` attempts (whether its holder's lease ran out, or its holder
        died, is for ``claim_for_replay`` to decide)."""
        ...

    def record_ignored(self, event: Event, *, reason: str) -> bool:
        """Record an event that is not dispatched; False if it was already recorded."""
        ...

    def get(self, event_id: str) -> StoredEvent | None:
        """The recorded event with this id, or None."""
        ...

    def list(
        self,
        *,
        type: str | None = None,
        status: EventStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> Sequence[StoredEvent]:
        """Recorded events, newest received first, filtered."""
        ...

    def backlog(self) -> Mapping[EventStatus, StatusBacklog]:
        """For every status in ``OPEN_STATUSES``, how many events are in it and the oldest
        one's ``received_at`` (``StatusBacklog()`` for an empty status).

        One query over those statuses only (the status index): final events, however
        many, are not read, so the health route and a metrics scrape stay cheap.
        """
        ...


class StoreCall(asyncio.Future[_T]):
    """The future of a store method run by ``call_async``, which its caller may give up on.

    The caller awaits it as it is (no task, no shield: the delivery wakes up on the
    turn of the loop its batch commits in). A caller whose deadline passes sets its
    error on it; the store, finding it done when the write's own result comes, passes
    that result to ``late`` (if set), e.g. a claim that must be let go.

    Example:
        >>> async def main() -> int:
        ...     call: StoreCall[int] = StoreCall(loop=asyncio.get_running_loop())
        ...     call.set_result(1)
        ...     return await call
        >>> asyncio.run(main())
        1
    """

    late: Callable[[Any], None] | None = None
    """Given the result of a call that was answered (an error set) before it ended."""
