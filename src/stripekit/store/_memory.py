"""MemoryEventStore: the event store in a dict, for tests and single-process development."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from stripekit.webhooks._store import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    WAITING_STATUSES,
    Claim,
    ClaimOutcome,
    EventStatus,
    StatusBacklog,
    StoredEvent,
)

from ._rows import check_lease, check_sweep, clean_error

if TYPE_CHECKING:
    from stripekit.webhooks._event import Event

__all__ = ["MemoryEventStore"]

_PROCESSING = EventStatus.PROCESSING
_FAILED = EventStatus.FAILED
_NEW = ClaimOutcome.NEW
_RETRY = ClaimOutcome.RETRY
_IN_FLIGHT = Claim(ClaimOutcome.IN_FLIGHT)
_DUPLICATE = Claim(ClaimOutcome.DUPLICATE)
# A dict, not a set: looking a plain "processed" up gives back the enum member.
_COMPLETE_STATUSES = {status: status for status in (EventStatus.PROCESSED, EventStatus.UNHANDLED)}
_TOKEN_BATCH = 256


class _Row:
    """One event; times are POSIX seconds so the hot path builds no datetime."""

    __slots__ = (
        "attempts",
        "id",
        "last_error",
        "lease_until",
        "processed_at",
        "raw",
        "received_at",
        "status",
        "token",
        "type",
    )

    def __init__(
        self, event: Event, now: float, status: EventStatus, token: str | None, lease: float
    ) -> None:
        # Only the raw bytes are kept: holding the parsed dicts of every event
        # would make the garbage collector walk them all on the hot path.
        self.raw = event.raw
        self.id = event.id
        self.type = event.type
        self.received_at = now
        self.status = status
        self.attempts = 0 if token is None else 1
        self.token = token
        self.lease_until = now + lease
        self.last_error: str | None = None
        self.processed_at: float | None = None

    def take(self, now: float, lease: float, token: str) -> None:
        self.status = _PROCESSING
        self.token = token
        self.lease_until = now + lease
        self.attempts += 1
        self.processed_at = None

    def snapshot(self) -> StoredEvent:
        from stripekit.webhooks._event import parse_event

        event = parse_event(self.raw)
        return StoredEvent(
            id=event.id,
            type=self.type,
            livemode=event.livemode,
            account=event.account,
            created=event.created,
            received_at=_datetime(self.received_at),
            payload=bytes(self.raw),
            status=self.status,
            attempts=self.attempts,
            last_error=self.last_error,
            processed_at=None if self.processed_at is None else _datetime(self.processed_at),
        )


class MemoryEventStore:
    """An EventStore in this process's memory: fast, thread-safe, gone on exit.

    Args:
        clock: returns the current time (timezone-aware); tests pass a fake
            one to expire leases without sleeping.

    Example:
        >>> from stripekit import parse_event
        >>> store = MemoryEventStore()
        >>> event = parse_event(b'{"id": "evt_1", "object": "event", "type": "invoice.paid",'
        ...                     b' "created": 1700000000, "data": {"object": {}}}')
        >>> claim = store.claim(event, lease=60)
        >>> claim.outcome.value, store.complete("evt_1", claim.token, status=EventStatus.PROCESSED)
        ('new', True)
        >>> store.claim(event, lease=60).outcome.value
        'duplicate'
    """

    blocking = False

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()
        self._now: Callable[[], float] = (
            time.time if clock is None else (lambda: _timestamp(clock()))
        )
        self._entropy = ""
        self._used = 0

    def _token(self) -> str:
        """128 random bits as hex; drawn from the OS in batches (call with the lock held)."""
        used = self._used
        if used >= len(self._entropy):
            # One os.urandom call per 256 tokens: a syscall each cost more than the claim.
            self._entropy, used = os.urandom(_TOKEN_BATCH * 16).hex(), 0
        self._used = used + 32
        return self._entropy[used : used + 32]

    def claim(self, event: Event, *, lease: float) -> Claim:
        check_lease(lease)
        event_id = event.id
        now = self._now()
        with self._lock:
            row = self._rows.get(event_id)
            if row is None:
                token = self._token()
                self._rows[event_id] = _Row(event, now, _PROCESSING, token, lease)
                return Claim(_NEW, token, 1)
            status = row.status
            if status in WAITING_STATUSES or (status is _PROCESSING and row.lease_until <= now):
                token = self._token()
                row.take(now, lease, token)
                return Claim(_RETRY, token, row.attempts)
            return _DUPLICATE if status in FINAL_STATUSES else _IN_FLIGHT

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        final = _COMPLETE_STATUSES.get(status)
        if final is None:
            raise ValueError(f"complete() takes PROCESSED or UNHANDLED, not {status!r}")
        now = self._now()
        with self._lock:
            row = self._rows.get(event_id)
            if row is None or not token or row.token != token or row.status is not _PROCESSING:
                return False
            row.status = final
            row.token = None
            row.processed_at = now
            return True

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        error = clean_error(error)
        with self._lock:
            row = self._rows.get(event_id)
            if row is None or not token or row.token != token or row.status is not _PROCESSING:
                return False
            row.status = _FAILED
            row.token = None
            row.lease_until = 0.0
            row.last_error = error
            return True

    def record_ignored(self, event: Event, *, reason: str) -> bool:
        reason = clean_error(reason)
        now = self._now()
        with self._lock:
            if event.id in self._rows:
                return False
            row = self._rows[event.id] = _Row(event, now, EventStatus.IGNORED, None, 0.0)
            row.last_error = reason
            row.processed_at = now
            return True

    def record_queued(self, event: Event) -> EventStatus | None:
        now = self._now()
        with self._lock:
            row = self._rows.get(event.id)
            if row is not None:
                return row.status
            self._rows[event.id] = _Row(event, now, EventStatus.QUEUED, None, 0.0)
            return None

    def claim_for_replay(
        self,
        event_id: str,
        *,
        lease: float,
        force: bool = False,
        max_attempts: int | None = None,
    ) -> tuple[Claim, StoredEvent | None]:
        check_lease(lease)
        now = self._now()
        with self._lock:
            row = self._rows.get(event_id)
            if row is None:
                return _DUPLICATE, None
            status = row.status
            if status is _PROCESSING and row.lease_until > now:
                return _IN_FLIGHT, row.snapshot()
            if status in FINAL_STATUSES and not force:
                return _DUPLICATE, row.snapshot()
            if max_attempts is not None and row.attempts >= max_attempts:
                return (_IN_FLIGHT if status is _PROCESSING else _DUPLICATE), row.snapshot()
            token = self._token()
            row.take(now, lease, token)
            return Claim(_RETRY, token, row.attempts), row.snapshot()

    def sweepable(self, *, grace: float, max_attempts: int, limit: int = 100) -> list[str]:
        check_sweep(grace, max_attempts, limit)
        before = self._now() - grace
        with self._lock:
            rows = [
                row
                for row in self._rows.values()
                if (row.status is EventStatus.QUEUED and row.received_at <= before)
                or (row.status is _FAILED and row.attempts < max_attempts)
                or (
                    row.status is _PROCESSING
                    and row.received_at <= before
                    and row.attempts < max_attempts
                )
            ]
        rows.sort(key=lambda row: (row.received_at, row.id))
        return [row.id for row in rows[:limit]]

    def get(self, event_id: str) -> StoredEvent | None:
        with self._lock:
            row = self._rows.get(event_id)
            return None if row is None else row.snapshot()

    def list(
        self,
        *,
        type: str | None = None,
        status: EventStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit!r}")
        matches = _type_matcher(type)
        status = None if status is None else EventStatus(status)
        after = None if since is None else _timestamp(since)
        with self._lock:
            rows = [
                row
                for row in self._rows.values()
                if (status is None or row.status is status)
                and (after is None or row.received_at >= after)
                and matches(row.type)
            ]
            rows.sort(key=lambda row: (row.received_at, row.id), reverse=True)
            return [row.snapshot() for row in rows[:limit]]

    def backlog(self) -> dict[EventStatus, StatusBacklog]:
        counts = dict.fromkeys(OPEN_STATUSES, 0)
        oldest: dict[EventStatus, float] = {}
        with self._lock:
            for row in self._rows.values():
                status = row.status
                if status in counts:
                    counts[status] += 1
                    if row.received_at < oldest.get(status, row.received_at + 1):
                        oldest[status] = row.received_at
        return {
            status: StatusBacklog(
                count, None if status not in oldest else _datetime(oldest[status])
            )
            for status, count in counts.items()
        }

    def close(self) -> None:
        """Nothing to release; here so every store can be closed the same way."""

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<MemoryEventStore events={len(self._rows)}>"


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"give a timezone-aware datetime (e.g. in UTC), not {moment!r}")
    return moment.timestamp()


def _type_matcher(pattern: str | None) -> Callable[[str], bool]:
    """Exact type, or ``*`` matching any run of characters (``customer.subscription.*``)."""
    if pattern is None:
        return lambda _: True
    if "*" not in pattern:
        return pattern.__eq__
    regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
    return lambda event_type: regex.fullmatch(event_type) is not None
