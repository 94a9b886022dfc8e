"""The event store through the Django ORM: the same claim semantics as the core's stores.

Uniqueness is the database's (the event id is the primary key); a claim that
takes over a failed event or an expired lease is one conditional UPDATE, so two
workers can never both win it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, connections, transaction
from django.db.models import Count, F, Min, Q

from stripekit import Claim, ClaimOutcome, EventStatus, StatusBacklog, StoredEvent
from stripekit.store._holders import current_holder, holder_is_gone
from stripekit.store._rows import (
    answer_without_update,
    check_lease,
    check_sweep,
    clean_error,
    event_row,
    stored_event,
)
from stripekit.webhooks._store import FINAL_STATUSES, OPEN_STATUSES, WAITING_STATUSES

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from stripekit import Event

    from .models import WebhookEvent

__all__ = ["DjangoEventStore"]

logger = logging.getLogger("stripekit.django")

_PROCESSING = EventStatus.PROCESSING.value
_WAITING = [status.value for status in WAITING_STATUSES]


def _now() -> datetime:
    return datetime.now(UTC)


class DjangoEventStore:
    """Webhook events in the project's database (the ``WebhookEvent`` model).

    Example:
        >>> kit = StripeKit(store=DjangoEventStore())  # doctest: +SKIP
    """

    blocking = True

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def __repr__(self) -> str:
        return f"<DjangoEventStore using={self.using!r}>"

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """``transaction.atomic`` around an event's handlers and its status (the kit's
        ``unit_of_work``): their writes commit together, or roll back together.

        On SQLite it takes the database's write lock first. The transaction writes
        anyway (the event's status, at its end), and one that has read before its
        first write (the billing mirror looks its rows up before writing them)
        cannot wait for that lock: SQLite fails it at once, "database is locked",
        rather than risk two readers each waiting for the other to finish.
        """
        with transaction.atomic(using=self.using):
            connection = connections[self.using]
            if connection.vendor == "sqlite":
                from .models import WebhookEvent

                table = connection.ops.quote_name(WebhookEvent._meta.db_table)
                with connection.cursor() as cursor:
                    # Matches no row, but a write all the same: it takes the lock, waiting
                    # for it as long as the database's timeout allows.
                    cursor.execute(f"UPDATE {table} SET attempts = attempts WHERE 0 = 1")  # noqa: S608
            yield

    @property
    def _events(self) -> QuerySet[WebhookEvent]:
        from .models import WebhookEvent

        return WebhookEvent.objects.using(self.using)

    def claim(self, event: Event, *, lease: float) -> Claim:
        check_lease(lease)
        now = _now()
        token = secrets.token_hex(16)
        try:
            # A savepoint: inside the caller's transaction a refused INSERT must not
            # poison it (PostgreSQL aborts the whole transaction otherwise).
            with transaction.atomic(using=self.using):
                self._events.create(
                    **event_row(event, now), status=_PROCESSING, token=token,
                    lease_until=now + timedelta(seconds=lease), attempts=1,
                    holder=current_holder(),
                )  # fmt: skip
            return Claim(ClaimOutcome.NEW, token, 1)
        except IntegrityError:
            pass
        seen = self._events.filter(id=event.id).values_list("status", "lease_until", "holder")
        row = seen.first()
        if row is not None:
            status, until, holder = row
            answer = answer_without_update(status, until is not None and until > now, holder)
            if answer is not None:
                return answer
        retryable = Q(status__in=_WAITING) | Q(status=_PROCESSING, lease_until__lte=now)
        taken = self._take_over(event.id, retryable, token, now, lease)
        if not taken:
            taken = self._take_from_the_dead(event.id, token, now, lease)
        row = self._events.only("status", "attempts").get(id=event.id)
        if taken:
            return Claim(ClaimOutcome.RETRY, token, row.attempts)
        if EventStatus(row.status) in FINAL_STATUSES:
            return Claim(ClaimOutcome.DUPLICATE)
        return Claim(ClaimOutcome.IN_FLIGHT)

    def complete(self, event_id: str, token: str, *, status: EventStatus) -> bool:
        if status not in (EventStatus.PROCESSED, EventStatus.UNHANDLED):
            raise ValueError(f"complete() takes PROCESSED or UNHANDLED, not {status!r}")
        return self._finish(event_id, token, status=EventStatus(status).value, processed_at=_now())

    def fail(self, event_id: str, token: str, *, error: str) -> bool:
        return self._finish(
            event_id, token, status=EventStatus.FAILED.value, last_error=clean_error(error)
        )

    def _finish(self, event_id: str, token: str, **values: object) -> bool:
        if not token:
            return False
        updated = self._events.filter(id=event_id, token=token, status=_PROCESSING).update(
            token=None, lease_until=None, holder=None, **values
        )
        return bool(updated == 1)

    def _take_over(
        self, event_id: str, condition: Q, token: str, now: datetime, lease: float
    ) -> bool:
        taken = self._events.filter(condition, id=event_id).update(
            status=_PROCESSING, token=token, lease_until=now + timedelta(seconds=lease),
            attempts=F("attempts") + 1, processed_at=None, holder=current_holder(),
        )  # fmt: skip
        return bool(taken == 1)

    def _take_from_the_dead(
        self, event_id: str, token: str, now: datetime, lease: float, budget: Q | None = None
    ) -> bool:
        """Take over a claim whose holder died on this machine (see store/_holders)."""
        held = (
            self._events.filter(id=event_id, status=_PROCESSING)
            .values_list("token", "holder")
            .first()
        )
        if held is None or held[0] is None or not holder_is_gone(held[1]):
            return False
        condition = Q(token=held[0], status=_PROCESSING)
        if budget is not None:
            condition &= budget
        taken = self._take_over(event_id, condition, token, now, lease)
        if taken:
            logger.warning(
                "took over %s from a worker that died while processing it (%s)", event_id, held[1]
            )
        return taken

    def claim_for_replay(
        self,
        event_id: str,
        *,
        lease: float,
        force: bool = False,
        max_attempts: int | None = None,
    ) -> tuple[Claim, StoredEvent | None]:
        check_lease(lease)
        now = _now()
        token = secrets.token_hex(16)
        allowed = Q(status__in=_WAITING) | Q(status=_PROCESSING, lease_until__lte=now)
        if force:
            allowed |= Q(status__in=[s.value for s in FINAL_STATUSES])
        budget = None if max_attempts is None else Q(attempts__lt=max_attempts)
        if budget is not None:
            allowed &= budget
        taken = self._take_over(event_id, allowed, token, now, lease)
        if not taken:
            taken = self._take_from_the_dead(event_id, token, now, lease, budget)
        row = self.get(event_id)
        if row is None:
            return Claim(ClaimOutcome.DUPLICATE), None
        if taken:
            return Claim(ClaimOutcome.RETRY, token, row.attempts), row
        if row.status is EventStatus.PROCESSING:
            return Claim(ClaimOutcome.IN_FLIGHT), row
        return Claim(ClaimOutcome.DUPLICATE), row

    def record_queued(self, event: Event) -> EventStatus | None:
        try:
            # A savepoint, as in claim(); outside a transaction it commits at once.
            with transaction.atomic(using=self.using):
                self._events.create(
                    **event_row(event, _now()), status=EventStatus.QUEUED.value, attempts=0
                )
        except IntegrityError:
            status = self._events.filter(id=event.id).values_list("status", flat=True).first()
            return EventStatus(status) if status is not None else None
        return None

    def sweepable(self, *, grace: float, max_attempts: int, limit: int = 100) -> list[str]:
        check_sweep(grace, max_attempts, limit)
        before = _now() - timedelta(seconds=grace)
        due = (
            Q(status=EventStatus.QUEUED.value, received_at__lte=before)
            | Q(status=EventStatus.FAILED.value, attempts__lt=max_attempts)
            | Q(status=_PROCESSING, received_at__lte=before, attempts__lt=max_attempts)
        )
        rows = self._events.filter(due).order_by("received_at", "id").values_list("id", flat=True)
        return list(rows[:limit])

    def record_ignored(self, event: Event, *, reason: str) -> bool:
        now = _now()
        try:
            with transaction.atomic(using=self.using):
                self._events.create(
                    **event_row(event, now), status=EventStatus.IGNORED.value, attempts=0,
                    last_error=clean_error(reason), processed_at=now,
                )  # fmt: skip
        except IntegrityError:
            return False
        return True

    def get(self, event_id: str) -> StoredEvent | None:
        row = self._events.filter(id=event_id).first()
        return None if row is None else stored_event(row)

    def list(
        self,
        *,
        type: str | None = None,
        status: EventStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> Sequence[StoredEvent]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit!r}")
        rows = self._events.all()
        if type is not None:
            rows = rows.filter(type__regex=_regex(type)) if "*" in type else rows.filter(type=type)
        if status is not None:
            rows = rows.filter(status=EventStatus(status).value)
        if since is not None:
            rows = rows.filter(received_at__gte=since)
        return [stored_event(row) for row in rows.order_by("-received_at", "-id")[:limit]]

    def backlog(self) -> dict[EventStatus, StatusBacklog]:
        # The open statuses only (the status index): processed events are not read.
        rows = (
            self._events.filter(status__in=[status.value for status in OPEN_STATUSES])
            .order_by()
            .values("status")
            .annotate(count=Count("id"), oldest=Min("received_at"))
        )
        found = dict.fromkeys(OPEN_STATUSES, StatusBacklog())
        for row in rows:
            found[EventStatus(row["status"])] = StatusBacklog(row["count"], row["oldest"])
        return found

    def close(self) -> None:
        """Django manages the connections."""


def _regex(pattern: str) -> str:
    import re

    return "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
