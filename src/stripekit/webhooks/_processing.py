"""Webhook processing: raw body + headers in, an HTTP status and a small JSON body out.

The flow for one delivery::

    size ≤ limit? ─no─▶ 413
    signature ok? ─no─▶ 400             (nothing recorded, nothing dispatched)
    a JSON event? ─no─▶ 400
    livemode ok?  ─no─▶ record ignored, 200 (or 400 with reject_livemode_mismatch)
    store.claim   ─▶ DUPLICATE 200 · IN_FLIGHT 409 (Stripe retries) · store down 503
                  ─▶ NEW/RETRY: run handlers ─▶ complete 200 · a handler raised: fail 500

In deferred mode (a ``queue``) the last step is instead::

    store.record_queued ─▶ committed ─▶ queue.enqueue(id) ─▶ 200 queued (broker down: 200 all
                           the same, logged; the sweeper runs it) · already final: 200 duplicate

Integrations call ``process``/``aprocess`` and send back ``status`` and ``body``;
they decide nothing themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from time import perf_counter
from typing import TYPE_CHECKING

from stripekit._errors import ConfigurationError, WebhookError

from ._api_versions import ApiVersions
from ._dispatch import Dispatcher, WebhookResult, internal_error, unavailable
from ._event import Event, parse_event
from ._observe import DeliveryObserver, DeliveryStats
from ._queue import TaskQueue
from ._registry import WebhookRegistry
from ._signature import verify_signature
from ._store import FINAL_STATUSES, EventStatus, EventStore

if TYPE_CHECKING:
    import stripe

    from stripekit._types import Headers

__all__ = ["WebhookProcessor", "WebhookResult"]

logger = logging.getLogger("stripekit.webhooks")

SIGNATURE_HEADER = "stripe-signature"


class WebhookProcessor:
    """Verifies, records and dispatches webhook deliveries (sync ``process``, async ``aprocess``).

    Example:
        >>> from stripekit import MemoryEventStore, WebhookRegistry
        >>> from stripekit.testing import signed_event
        >>> webhooks = WebhookRegistry()
        >>> _ = webhooks.register("invoice.paid", lambda event: None)
        >>> processor = WebhookProcessor(
        ...     secrets=["whsec_test"], store=MemoryEventStore(), registry=webhooks)
        >>> body, headers = signed_event("invoice.paid", secret="whsec_test")
        >>> processor.process(body, headers).status
        200
    """

    def __init__(
        self,
        *,
        secrets: Sequence[str],
        store: EventStore,
        registry: WebhookRegistry,
        tolerance: int = 300,
        max_body_bytes: int = 1024 * 1024,
        livemode: bool | None = None,
        reject_livemode_mismatch: bool = False,
        lease: float = 60.0,
        client_factory: Callable[[], stripe.StripeClient] | None = None,
        unit_of_work: Callable[[], AbstractContextManager[object]] | None = None,
        handler_timeout: float = 10.0,
        handler_threads: int = 8,
        first: WebhookRegistry | None = None,
        observer: DeliveryObserver | None = None,
        queue: TaskQueue | None = None,
        api_versions: ApiVersions | None = None,
    ) -> None:
        if not secrets:
            raise ConfigurationError(
                "no webhook secret: set STRIPE_WEBHOOK_SECRET to the endpoint's signing "
                "secret (whsec_...)"
            )
        if tolerance <= 0:
            raise ConfigurationError(
                "the webhook tolerance must be a positive number of seconds; "
                "there is no 'never expires'"
            )
        self.secrets = tuple(secrets)
        self.store = store
        self.registry = registry
        self.tolerance = tolerance
        self.max_body_bytes = max_body_bytes
        self.livemode = livemode
        self.reject_livemode_mismatch = reject_livemode_mismatch
        self.lease = lease
        self.client_factory = client_factory
        self.observer = observer if observer is not None else DeliveryObserver()
        """Reports each delivery: its log record, metrics and spans."""
        self.queue = queue
        """Deferred mode when set: deliveries are recorded ``queued`` and their ids sent
        here; a worker runs them with ``Dispatcher.run_deferred``."""
        self.dispatcher = Dispatcher(
            store,
            registry,
            lease=lease,
            client_factory=client_factory,
            unit_of_work=unit_of_work,
            handler_timeout=handler_timeout,
            handler_threads=handler_threads,
            first=first,
            observer=self.observer,
            api_versions=api_versions,
        )

    @property
    def api_versions(self) -> ApiVersions:
        """The API versions of the events processed: ``api_versions.seen``."""
        return self.dispatcher.api_versions

    def __repr__(self) -> str:
        return f"<{type(self).__name__} secrets=*** store={type(self.store).__name__}>"

    def close(self) -> None:
        """Stop the dispatcher's handler threads (see ``Dispatcher.close``)."""
        self.dispatcher.close()

    def process(self, body: bytes, headers: Headers) -> WebhookResult:
        """Handle one delivery in this thread; async handlers run in a fresh event loop."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("pass the raw request body as bytes, exactly as received")
        observer = self.observer
        stats = observer.start()
        with observer.root_span(stats, "stripekit.webhook"):
            try:
                checked = self._verify(body, headers, stats)
                if isinstance(checked, WebhookResult):
                    result = checked
                else:
                    result = self._record_and_dispatch(checked, stats)
            except Exception as exc:
                result = internal_error(exc)
            observer.finish(stats, result, "webhook")
        return result

    def _record_and_dispatch(self, event: Event, stats: DeliveryStats) -> WebhookResult:
        store = self.store
        started = perf_counter()
        try:
            with stats.span("stripekit.webhook.claim"):
                reason = self._livemode_mismatch(event)
                if reason is not None:
                    store.record_ignored(event, reason=reason)
                    stats.store_s += perf_counter() - started
                    return self._ignored(event, reason)
                queue = self.queue
                if queue is not None:
                    earlier = store.record_queued(event)
                else:
                    claim = store.claim(event, lease=self.lease)
        except Exception as exc:
            stats.store_s += perf_counter() - started
            return unavailable(event.id, exc)
        stats.store_s += perf_counter() - started
        if queue is not None:
            if _should_enqueue(earlier):
                try:
                    queue.enqueue(event.id)
                except Exception as exc:
                    _enqueue_failed(event, exc)
            return _queued(event, earlier)
        stats.attempts = claim.attempts
        return self.dispatcher.dispatch(event, claim, stats)

    async def aprocess(self, body: bytes, headers: Headers) -> WebhookResult:
        """Handle one delivery on the running loop; nothing blocks it: a blocking store's
        calls run in worker threads (or the store's own ``call_async``, such as SQLite's
        batched writes), sync handlers on the dispatcher's threads, and all handlers
        within ``handler_timeout`` seconds."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("pass the raw request body as bytes, exactly as received")
        observer = self.observer
        stats = observer.start()
        with observer.root_span(stats, "stripekit.webhook"):
            try:
                result = await self._aprocess(body, headers, stats)
            except Exception as exc:
                result = internal_error(exc)
            observer.finish(stats, result, "webhook")
        return result

    async def _aprocess(self, body: bytes, headers: Headers, stats: DeliveryStats) -> WebhookResult:
        checked = self._verify(body, headers, stats)
        if isinstance(checked, WebhookResult):
            return checked
        event = checked
        # Store calls and handlers go separate ways: a blocking store's calls to
        # asyncio's threads (given up on at the store's deadline), sync handlers to the
        # dispatcher's own threads under the time budget. A handler that hangs thus
        # never holds up the store, nor other deliveries.
        call = self.dispatcher.call_store
        started = perf_counter()
        try:
            with stats.span("stripekit.webhook.claim"):
                reason = self._livemode_mismatch(event)
                if reason is not None:
                    await call(self.store.record_ignored, event, reason=reason)
                    stats.store_s += perf_counter() - started
                    return self._ignored(event, reason)
                queue = self.queue
                if queue is not None:
                    earlier = await call(self.store.record_queued, event)
                else:
                    claim = await call(self.store.claim, event, lease=self.lease)
        except Exception as exc:
            stats.store_s += perf_counter() - started
            return unavailable(event.id, exc)
        stats.store_s += perf_counter() - started
        if queue is not None:
            if _should_enqueue(earlier):
                try:
                    aenqueue = getattr(queue, "aenqueue", None)
                    if aenqueue is not None:
                        await aenqueue(event.id)
                    else:
                        # A broker client blocks on its socket: never on the event loop.
                        await asyncio.to_thread(queue.enqueue, event.id)
                except Exception as exc:
                    _enqueue_failed(event, exc)
            return _queued(event, earlier)
        stats.attempts = claim.attempts
        return await self.dispatcher.adispatch(event, claim, stats)

    def replay(self, event_id: str, *, force: bool = False) -> WebhookResult:
        """Run a recorded event's handlers again (see ``Dispatcher.replay``)."""
        return self.dispatcher.replay(event_id, force=force)

    async def areplay(self, event_id: str, *, force: bool = False) -> WebhookResult:
        """Async twin of ``replay``."""
        return await self.dispatcher.areplay(event_id, force=force)

    def _verify(self, body: bytes, headers: Headers, stats: DeliveryStats) -> Event | WebhookResult:
        """Size, signature, payload: an Event, or the 4xx to answer."""
        with stats.span("stripekit.webhook.verify"):
            checked = self._checked(body, headers)
        if isinstance(checked, Event):
            stats.event = checked
        return checked

    def _checked(self, body: bytes, headers: Headers) -> Event | WebhookResult:
        body = bytes(body)
        try:
            if len(body) > self.max_body_bytes:
                from stripekit._errors import PayloadTooLargeError

                raise PayloadTooLargeError(
                    f"the body is {len(body)} bytes, over the {self.max_body_bytes}-byte limit "
                    "(STRIPEKIT_WEBHOOK_MAX_BYTES)"
                )
            verify_signature(body, _signature(headers), self.secrets, tolerance=self.tolerance)
            event = parse_event(body, self.client_factory)
        except WebhookError as exc:
            # Said once, by the delivery's record (stripekit.webhooks.delivery, WARNING).
            return WebhookResult(exc.status, {"error": str(exc)}, "rejected", error=exc)
        self.dispatcher.freeze()
        return event

    def _livemode_mismatch(self, event: Event) -> str | None:
        if self.livemode is None or event.livemode == self.livemode:
            return None
        mode = "live" if self.livemode else "test"
        return (
            f"event {event.id} ({event.type}) has livemode={str(event.livemode).lower()} "
            f"but the keys are {mode} keys"
        )

    def _ignored(self, event: Event, reason: str) -> WebhookResult:
        if self.reject_livemode_mismatch:
            logger.warning("%s; refused (reject_livemode_mismatch is on)", reason)
            return WebhookResult(400, {"error": reason}, "rejected", event.id)
        logger.warning(
            "%s; recorded as ignored, not dispatched (a Connect platform receives connected "
            "accounts' test events on its live endpoint; set "
            "STRIPEKIT_REJECT_LIVEMODE_MISMATCH=true to answer 400 instead)",
            reason,
        )
        return WebhookResult(200, {"status": "ignored", "event": event.id}, "ignored", event.id)


def _should_enqueue(earlier: EventStatus | None) -> bool:
    # New, or recorded but never run to the end: a task (again) is harmless, the
    # store's claim lets only one run the handlers. Held or final: nothing to send.
    return earlier is None or earlier is EventStatus.QUEUED or earlier is EventStatus.FAILED


def _enqueue_failed(event: Event, exc: BaseException) -> None:
    logger.warning(
        "could not enqueue %s (%s): it is recorded as queued and the sweeper will run it "
        "(`stripekit events sweep`, or kit.sweep() on a schedule): %s",
        event.id,
        event.type,
        exc,
    )


def _queued(event: Event, earlier: EventStatus | None) -> WebhookResult:
    if earlier is not None and earlier in FINAL_STATUSES:
        return WebhookResult(200, {"status": "duplicate", "event": event.id}, "duplicate", event.id)
    return WebhookResult(200, {"status": "queued", "event": event.id}, "queued", event.id)


def _signature(headers: Headers) -> str | None:
    # Frameworks hand over case-insensitive mappings, plain dicts may not be.
    value = headers.get("Stripe-Signature") or headers.get(SIGNATURE_HEADER)
    if value is None:
        for key, item in headers.items():
            if key.lower() == SIGNATURE_HEADER:
                return item
    return value
