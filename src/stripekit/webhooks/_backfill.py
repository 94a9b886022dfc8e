"""Missed-event recovery: read Stripe's events list and run what the store never recorded.

Stripe retries a delivery for three days; an endpoint down longer, a wrong
secret fixed too late or a deleted endpoint leave events that never arrive.
Stripe's advice is to list them (``GET /v1/events``, the last 30 days) and
process those not processed yet. ``backfill`` does that through the same path
as a delivery::

    list events created since `since`, newest first, page by page
        └─ each one the store has not recorded ──▶ kept
    the kept ones, oldest first:
        livemode ok? ─no─▶ record ignored
        store.claim  ─▶ NEW: run the handlers ─▶ complete / fail
                     ─▶ DUPLICATE / IN_FLIGHT: a live delivery got there first

The store's claim makes it safe at any time, beside live deliveries and other
backfills: each event's handlers run once. An event read from the API (with
the secret key) needs no signature; the store keeps it as the API listed it
(re-serialised, unsigned), the way it keeps a delivered body.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from stripekit._errors import BackfillError, PayloadError

from ._dispatch import Dispatcher, WebhookResult, unavailable
from ._event import Event, parse_event

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import stripe

__all__ = ["STRIPE_KEEPS_EVENTS", "BackfillReport", "abackfill", "backfill"]

STRIPE_KEEPS_EVENTS = timedelta(days=30)
"""How far back Stripe's events list goes."""

_PAGE = 100  # the most Stripe lists at once
_MOST_TYPES = 20  # the most `types[]` Stripe takes in one request


@dataclass
class BackfillReport:
    """What a backfill found and did.

    Attributes:
        seen: events Stripe listed for the period.
        new: those the store had not recorded when listed.
        processed: new events whose handlers ran and returned (or that have no handler).
        failed: new events whose handlers raised (recorded failed: ``events replay``
            runs them again), or that the store could not record.
        skipped: new events a live delivery (or another backfill) took first, or
            recorded ignored (their livemode differs from the keys').
        results: each new event's result, oldest first.
    """

    seen: int = 0
    new: int = 0
    processed: int = 0
    failed: int = 0
    skipped: int = 0
    results: list[WebhookResult] = field(default_factory=list)

    def add(self, result: WebhookResult) -> None:
        """Count one new event's result."""
        self.results.append(result)
        if result.outcome in ("processed", "unhandled"):
            self.processed += 1
        elif result.outcome in ("duplicate", "in_flight", "ignored"):
            self.skipped += 1
        else:
            self.failed += 1

    def __str__(self) -> str:
        return (
            f"{self.seen} event(s) listed, {self.new} not recorded: {self.processed} "
            f"processed, {self.failed} failed, {self.skipped} skipped"
        )


def since_timestamp(since: datetime | timedelta, now: datetime | None = None) -> int:
    """The ``created[gte]`` of a backfill from ``since``; BackfillError past 30 days.

    Example:
        >>> moment = datetime(2024, 5, 1, tzinfo=UTC)
        >>> since_timestamp(timedelta(days=1), now=moment)
        1714435200
    """
    now = now or datetime.now(UTC)
    if isinstance(since, timedelta):
        since = now - since
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if since > now:
        raise BackfillError(f"since ({since.isoformat()}) is in the future: give a past time")
    if now - since > STRIPE_KEEPS_EVENTS:
        raise BackfillError(
            f"since ({since.isoformat()}) is more than 30 days ago: Stripe's events list keeps "
            "only the last 30 days; give 30d or less (for older state, `stripekit billing "
            "sync` reads the objects themselves)"
        )
    return int(since.timestamp())


def _params(
    created_gte: int, types: Sequence[str], account: str | None, after: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": _PAGE, "created": {"gte": created_gte}}
    if types:
        params["types"] = list(types)
    if after is not None:
        params["starting_after"] = after
    if account is not None:
        params["stripe_account"] = account  # a request option: the Stripe-Account header
    return params


def _check_types(types: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(types)
    if len(chosen) > _MOST_TYPES:
        raise BackfillError(
            f"{len(chosen)} event types given; Stripe filters by {_MOST_TYPES} at most: "
            "run several backfills, or none (every type)"
        )
    return chosen


def _page(response: Any) -> tuple[list[dict[str, Any]], bool]:
    data = response.data if hasattr(response, "data") else json.loads(response.body)
    events = [e for e in data.get("data", []) if isinstance(e, dict)]
    return events, bool(data.get("has_more")) and bool(events)


def _pages(
    client: stripe.StripeClient, gte: int, types: Sequence[str], account: str | None
) -> Iterator[dict[str, Any]]:
    from stripekit._stripe_api import call_stripe

    after: str | None = None
    while True:
        params = _params(gte, types, account, after)
        response = call_stripe(functools.partial(client.raw_request, "get", "/v1/events", **params))
        events, more = _page(response)
        yield from events
        if not more:
            return
        after = str(events[-1]["id"])


async def _apages(
    client: stripe.StripeClient, gte: int, types: Sequence[str], account: str | None
) -> AsyncIterator[dict[str, Any]]:
    from stripekit._stripe_api import acall_stripe

    after: str | None = None
    while True:
        params = _params(gte, types, account, after)
        response = await acall_stripe(
            functools.partial(client.raw_request_async, "get", "/v1/events", **params)
        )
        events, more = _page(response)
        for event in events:
            yield event
        if not more:
            return
        after = str(events[-1]["id"])


def _event(
    payload: dict[str, Any], client_factory: Callable[[], stripe.StripeClient] | None
) -> Event | WebhookResult:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        return parse_event(raw, client_factory)
    except PayloadError as exc:
        event_id = str(payload.get("id"))
        return WebhookResult(422, {"error": str(exc), "event": event_id}, "rejected", event_id, exc)


def _mismatch(event: Event, livemode: bool | None) -> str | None:
    if livemode is None or event.livemode == livemode:
        return None
    return f"event {event.id} has livemode={str(event.livemode).lower()}, unlike the keys"


def backfill(
    dispatcher: Dispatcher,
    client: stripe.StripeClient,
    *,
    since: datetime | timedelta,
    types: Iterable[str] = (),
    stripe_account: str | None = None,
    livemode: bool | None = None,
) -> BackfillReport:
    """Run every event created since ``since`` that the store has not recorded, oldest first.

    Args:
        dispatcher: runs the handlers and holds the store (``kit.dispatcher``).
        client: the Stripe client whose account's events are listed.
        since: a moment, or how long ago (30 days at most: what Stripe keeps).
        types: only these event types (20 at most); every type when empty.
        stripe_account: a connected account's events (Connect), listed with
            ``Stripe-Account``; the platform's own when None.
        livemode: what an event's livemode must be (the keys'); others are
            recorded ignored, as deliveries are.

    Raises:
        BackfillError: ``since`` is over 30 days ago, or in the future.
        StripeAPIError: Stripe did not answer the listing.

    Example:
        >>> report = kit.backfill(since=timedelta(days=3))  # doctest: +SKIP
        >>> print(report)  # doctest: +SKIP
        50 event(s) listed, 2 not recorded: 2 processed, 0 failed, 0 skipped
    """
    gte = since_timestamp(since)
    chosen = _check_types(types)
    store = dispatcher.store
    report = BackfillReport()
    missed: list[dict[str, Any]] = []
    for payload in _pages(client, gte, chosen, stripe_account):
        report.seen += 1
        # Only the missed ones are kept in memory: a busy account lists many.
        if store.get(str(payload.get("id"))) is None:
            missed.append(payload)
    report.new = len(missed)
    for payload in reversed(missed):  # listed newest first; run oldest first
        event = _event(payload, dispatcher.client_factory)
        if isinstance(event, WebhookResult):
            report.add(event)
            continue
        report.add(_feed(dispatcher, event, livemode))
    return report


def _feed(dispatcher: Dispatcher, event: Event, livemode: bool | None) -> WebhookResult:
    store = dispatcher.store
    try:
        reason = _mismatch(event, livemode)
        if reason is not None:
            store.record_ignored(event, reason=reason)
            return WebhookResult(200, {"status": "ignored"}, "ignored", event.id)
        claim = store.claim(event, lease=dispatcher.lease)
    except Exception as exc:
        return unavailable(event.id, exc)
    dispatcher.freeze()
    return dispatcher.dispatch(event, claim)


async def abackfill(
    dispatcher: Dispatcher,
    client: stripe.StripeClient,
    *,
    since: datetime | timedelta,
    types: Iterable[str] = (),
    stripe_account: str | None = None,
    livemode: bool | None = None,
) -> BackfillReport:
    """Async twin of ``backfill``."""
    gte = since_timestamp(since)
    chosen = _check_types(types)
    store = dispatcher.store
    call = dispatcher.call_store
    report = BackfillReport()
    missed: list[dict[str, Any]] = []
    async for payload in _apages(client, gte, chosen, stripe_account):
        report.seen += 1
        if await call(store.get, str(payload.get("id"))) is None:
            missed.append(payload)
    report.new = len(missed)
    for payload in reversed(missed):
        event = _event(payload, dispatcher.client_factory)
        if isinstance(event, WebhookResult):
            report.add(event)
            continue
        try:
            reason = _mismatch(event, livemode)
            if reason is not None:
                await call(store.record_ignored, event, reason=reason)
                report.add(WebhookResult(200, {"status": "ignored"}, "ignored", event.id))
                continue
            claim = await call(store.claim, event, lease=dispatcher.lease)
        except Exception as exc:
            report.add(unavailable(event.id, exc))
            continue
        dispatcher.freeze()
        report.add(await dispatcher.adispatch(event, claim))
    return report
