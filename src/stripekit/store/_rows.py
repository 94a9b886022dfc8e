"""What every event store implementation shares: row shapes, lease and error rules.

The SQL store (``store/_sql``) and the Django store (``stripekit_django.store``)
write the same columns and read them back the same way; the memory store keeps
the same limits so that the three answer alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from stripekit.webhooks._store import (
    FINAL_STATUSES,
    Claim,
    ClaimOutcome,
    EventStatus,
    StoredEvent,
)

from ._holders import holder_is_gone

if TYPE_CHECKING:
    from stripekit.webhooks._event import Event

__all__ = [
    "MAX_ERROR_LENGTH",
    "answer_without_update",
    "check_lease",
    "check_sweep",
    "clean_error",
    "event_row",
    "stored_event",
]

MAX_ERROR_LENGTH = 4_000
"""How many characters of ``last_error`` a store keeps (a traceback's head and tail)."""


def clean_error(error: str) -> str:
    """``error`` made storable anywhere: no NUL or lone surrogate, at most MAX_ERROR_LENGTH.

    A long traceback keeps its head (which handler) and its tail (the exception).
    """
    if "\x00" in error:
        error = error.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL
    if not error.isascii():
        error = error.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(error) <= MAX_ERROR_LENGTH:
        return error
    marker = f"\n[... cut: {len(error)} characters in all ...]\n"
    head = MAX_ERROR_LENGTH // 4
    tail = MAX_ERROR_LENGTH - head - len(marker)
    return error[:head] + marker + error[len(error) - tail :]


_FINAL = frozenset(status.value for status in FINAL_STATUSES)
_PROCESSING = EventStatus.PROCESSING.value
_DUPLICATE = Claim(ClaimOutcome.DUPLICATE)
_IN_FLIGHT = Claim(ClaimOutcome.IN_FLIGHT)


def answer_without_update(status: str, lease_live: bool | None, holder: str | None) -> Claim | None:
    """A claim's answer for an id already recorded, when one read decides it.

    DUPLICATE for a final status; IN_FLIGHT for one held under a live lease by a
    process that still runs; None when an UPDATE may take the event over (waiting,
    lease run out, holder gone), which the store then tries. A duplicate storm's
    deliveries thus cost one read each instead of the takeover's statements.
    """
    if status in _FINAL:
        return _DUPLICATE
    if status == _PROCESSING and lease_live and not holder_is_gone(holder):
        return _IN_FLIGHT
    return None


def check_lease(lease: float) -> None:
    """Refuse a lease that is not a positive number of seconds a database can add to a date."""
    if not 0 < lease < 10**9:
        raise ValueError(f"lease must be a positive number of seconds, not {lease!r}")


def check_sweep(grace: float, max_attempts: int, limit: int) -> None:
    """Refuse sweep bounds that would select nothing or everything by mistake."""
    if not 0 <= grace < 10**9:
        raise ValueError(f"grace must be zero or a positive number of seconds, not {grace!r}")
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts!r}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit!r}")


def event_row(event: Event, now: datetime) -> dict[str, Any]:
    """The columns a database store records for a newly received event."""
    return {
        "id": event.id,
        "type": event.type,
        "livemode": event.livemode,
        "account": event.account,
        "created": event.created,
        "received_at": now,
        "payload": bytes(event.raw),
    }


def stored_event(row: Any) -> StoredEvent:
    """A database row (SQLAlchemy's or a Django model's) as a StoredEvent."""
    return StoredEvent(
        id=row.id,
        type=row.type,
        livemode=bool(row.livemode),
        account=row.account,
        created=row.created,
        received_at=row.received_at,
        payload=bytes(row.payload),
        status=EventStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        processed_at=row.processed_at,
    )
