"""Webhook processing: raw body + headers in, an HTTP status and a small JSON body out.

The flow for one delivery::

    size ≤ limit? ─no─▶ 413
    signature ok? ─no─▶ 400             (nothing recorded, nothing dispatched)
    a JSON event? ─no─▶ 400
    livemode ok?  ─no─▶ record ignored, 200 (or 400 with reject_livemode_mismatch)
    store.claim   ─▶ DUPLICATE 200 · IN_FLIGHT 409 (Stripe retries) · store down 503
                  ─▶ NEW/RETRY: run handlers ─▶ complete 200 · a handler raised: fail 500

Integrations call ``process``/``aprocess`` and send back ``status`` and ``body``;
they decide nothing themselves.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._errors import ConfigurationError, WebhookError
from ._event import Event, parse_event
from ._registry import WebhookRegistry, is_async_handler
from ._signature import verify_signature
from ._store import Claim, ClaimOutcome, EventStatus, EventStore

if TYPE_CHECKING:
    import stripe

    from ._types import Handler, Headers, JSONObject

__all__ = ["WebhookProcessor", "WebhookResult"]

logger = logging.getLogger("stripekit.webhooks")

SIGNATURE_HEADER = "stripe-signature"


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What to answer Stripe.

    Attributes:
        status: the HTTP status code.
        body: a small JSON-able dict (never a secret, never a traceback).
        outcome: ``processed``, ``unhandled``, ``duplicate``, ``ignored``,
            ``in_flight``, ``failed``, ``rejected`` or ``unavailable``.
        event_id: the event's id once it is known.
    """

    status: int
    body: JSONObject
    outcome: str
    event_id: str | None = None
    error: BaseException | None = field(default=None, repr=False, compare=False)


class _ProcessorBase:
    """Everything about a delivery that does no I/O, shared by process and aprocess."""

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
        lease: float = 300.0,
        client_factory: Callable[[], stripe.StripeClient] | None = None,
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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} secrets=*** store={type(self.store).__name__}>"

    def _verify(self, body: bytes, headers: Headers) -> Event | WebhookResult:
        """Size, signature, payload: an Event, or the 4xx to answer."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("pass the raw request body as bytes, exactly as received")
        body = bytes(body)
        try:
            if len(body) > self.max_body_bytes:
                from ._errors import PayloadTooLargeError

                raise PayloadTooLargeError(
                    f"the body is {len(body)} bytes, over the {self.max_body_bytes}-byte limit "
                    "(STRIPEKIT_WEBHOOK_MAX_BYTES)"
                )
            verify_signature(body, _signature(headers), self.secrets, tolerance=self.tolerance)
            event = parse_event(body, self.client_factory)
        except WebhookError as exc:
            logger.warning("webhook refused (%d): %s", exc.status, exc)
            return WebhookResult(exc.status, {"error": str(exc)}, "rejected", error=exc)
        self.registry.freeze()
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

    @staticmethod
    def _not_dispatched(event: Event, claim: Claim) -> WebhookResult | None:
        if claim.outcome is ClaimOutcome.DUPLICATE:
            return WebhookResult(
                200, {"status": "duplicate", "event": event.id}, "duplicate", event.id
            )
        if claim.outcome is ClaimOutcome.IN_FLIGHT:
            # Non-2xx so Stripe delivers again later, when the holder has finished.
            return WebhookResult(
                409, {"status": "in_flight", "event": event.id}, "in_flight", event.id
            )
        return None

    @staticmethod
    def _unavailable(event: Event, exc: BaseException) -> WebhookResult:
        logger.error("event store unavailable for %s: %s", event.id, exc)
        return WebhookResult(
            503,
            {"error": "event store unavailable", "event": event.id},
            "unavailable",
            event.id,
            exc,
        )

    @staticmethod
    def _failed(event: Event, handler: Handler, exc: BaseException) -> tuple[str, WebhookResult]:
        name = getattr(handler, "__qualname__", repr(handler))
        logger.error("handler %s failed on %s (%s)", name, event.id, event.type, exc_info=exc)
        error = f"{name}: {''.join(traceback.format_exception(exc)).strip()}"
        result = WebhookResult(
            500, {"status": "failed", "event": event.id}, "failed", event.id, exc
        )
        return error, result

    @staticmethod
    def _done(event: Event, handled: bool) -> tuple[EventStatus, WebhookResult]:
        status = EventStatus.PROCESSED if handled else EventStatus.UNHANDLED
        return status, WebhookResult(
            200, {"status": status.value, "event": event.id}, status.value, event.id
        )


class WebhookProcessor(_ProcessorBase):
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

    def process(self, body: bytes, headers: Headers) -> WebhookResult:
        """Handle one delivery in this thread; async handlers run in a fresh event loop."""
        checked = self._verify(body, headers)
        if isinstance(checked, WebhookResult):
            return checked
        event = checked
        store = self.store
        try:
            reason = self._livemode_mismatch(event)
            if reason is not None:
                store.record_ignored(event, reason=reason)
                return self._ignored(event, reason)
            claim = store.claim(event, lease=self.lease)
        except Exception as exc:
            return self._unavailable(event, exc)
        skipped = self._not_dispatched(event, claim)
        if skipped is not None:
            return skipped
        handlers = self.registry.handlers_for(event.type)
        for handler in handlers:
            try:
                if is_async_handler(handler):
                    _refuse_inside_running_loop(handler)
                outcome = handler(event)
                if is_async_handler(handler):
                    asyncio.run(outcome)  # type: ignore[arg-type]
            except Exception as exc:
                error, result = self._failed(event, handler, exc)
                return self._record_failure(store, event, claim, error, result)
        status, result = self._done(event, bool(handlers))
        try:
            store.complete(event.id, claim.token, status=status)
        except Exception as exc:
            return self._unavailable(event, exc)
        return result

    async def aprocess(self, body: bytes, headers: Headers) -> WebhookResult:
        """Handle one delivery on the running loop; sync handlers and blocking stores
        run in a worker thread so they do not stall it."""
        checked = self._verify(body, headers)
        if isinstance(checked, WebhookResult):
            return checked
        event = checked
        store = self.store

        async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            if store.blocking:
                return await asyncio.to_thread(fn, *args, **kwargs)
            return fn(*args, **kwargs)

        try:
            reason = self._livemode_mismatch(event)
            if reason is not None:
                await call(store.record_ignored, event, reason=reason)
                return self._ignored(event, reason)
            claim = await call(store.claim, event, lease=self.lease)
        except Exception as exc:
            return self._unavailable(event, exc)
        skipped = self._not_dispatched(event, claim)
        if skipped is not None:
            return skipped
        handlers = self.registry.handlers_for(event.type)
        for handler in handlers:
            try:
                if is_async_handler(handler):
                    await handler(event)  # type: ignore[misc]
                else:
                    await asyncio.to_thread(handler, event)
            except Exception as exc:
                error, result = self._failed(event, handler, exc)
                try:
                    await call(store.fail, event.id, claim.token, error=error)
                except Exception as store_exc:
                    return self._unavailable(event, store_exc)
                return result
        status, result = self._done(event, bool(handlers))
        try:
            await call(store.complete, event.id, claim.token, status=status)
        except Exception as exc:
            return self._unavailable(event, exc)
        return result

    def _record_failure(
        self, store: EventStore, event: Event, claim: Claim, error: str, result: WebhookResult
    ) -> WebhookResult:
        try:
            store.fail(event.id, claim.token, error=error)
        except Exception as exc:
            return self._unavailable(event, exc)
        return result


def _signature(headers: Headers) -> str | None:
    # Frameworks hand over case-insensitive mappings, plain dicts may not be.
    value = headers.get("Stripe-Signature") or headers.get(SIGNATURE_HEADER)
    if value is None:
        for key, item in headers.items():
            if key.lower() == SIGNATURE_HEADER:
                return item
    return value


def _refuse_inside_running_loop(handler: Callable[..., Any]) -> None:
    # asyncio.run() cannot nest: in an async web app the sync path would fail every
    # async handler with a confusing RuntimeError, so say what to call instead.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    name = getattr(handler, "__qualname__", repr(handler))
    raise ConfigurationError(
        f"async handler {name} cannot run from process()/handle_webhook() inside a running "
        "event loop; in async code call `await kit.ahandle_webhook(...)` "
        "(WebhookProcessor.aprocess) instead"
    )
