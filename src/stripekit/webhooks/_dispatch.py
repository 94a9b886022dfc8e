"""Running a claimed event's handlers and recording how it went.

The WebhookProcessor hands over each delivery it has verified and claimed;
``replay`` takes a recorded event over from the store (``stripekit events
replay``, the Django admin's action, a task-queue worker in deferred mode).
Neither needs the webhook secret: what runs here was verified when received.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stripekit._errors import ConfigurationError

from ._event import Event, parse_event
from ._registry import WebhookRegistry, is_async_handler
from ._store import Claim, ClaimOutcome, EventStatus, EventStore

if TYPE_CHECKING:
    import stripe

    from stripekit._types import JSONObject

    from ._types import Handler

__all__ = ["Dispatcher", "WebhookResult"]

logger = logging.getLogger("stripekit.webhooks")


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What to answer Stripe (or print, for a replay).

    Attributes:
        status: the HTTP status code.
        body: a small JSON-able dict (never a secret, never a traceback).
        outcome: ``processed``, ``unhandled``, ``duplicate``, ``ignored``,
            ``in_flight``, ``failed``, ``rejected``, ``unavailable``, ``error`` (a fault
            of the kit's own) or (replay) ``missing``.
        event_id: the event's id once it is known.
    """

    status: int
    body: JSONObject
    outcome: str
    event_id: str | None = None
    error: BaseException | None = field(default=None, repr=False, compare=False)


class Dispatcher:
    """Runs the registry's handlers for claimed events and completes or fails them.

    Example:
        >>> from stripekit import MemoryEventStore, WebhookRegistry
        >>> dispatcher = Dispatcher(MemoryEventStore(), WebhookRegistry())
        >>> dispatcher.replay("evt_unknown").status
        404
    """

    def __init__(
        self,
        store: EventStore,
        registry: WebhookRegistry,
        *,
        lease: float = 300.0,
        client_factory: Callable[[], stripe.StripeClient] | None = None,
        unit_of_work: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.lease = lease
        self.client_factory = client_factory
        self.unit_of_work = unit_of_work or nullcontext
        """Wraps a delivery's handlers and its completion (sync path), e.g. Django's
        ``transaction.atomic``: the handlers' own writes and the event's status commit
        together, or roll back together when a handler raises."""

    def __repr__(self) -> str:
        return f"<Dispatcher store={type(self.store).__name__}>"

    # -- sync ------------------------------------------------------------------------------

    def dispatch(self, event: Event, claim: Claim) -> WebhookResult:
        """Run the handlers if the claim says so, then record the event's new status."""
        skipped = not_dispatched(event, claim)
        if skipped is not None:
            return skipped
        store = self.store
        handlers = self.registry.handlers_for(event.type)
        status, result = _done(event, bool(handlers))
        try:
            with self.unit_of_work():
                for handler in handlers:
                    try:
                        if is_async_handler(handler):
                            _refuse_inside_running_loop(handler)
                            asyncio.run(handler(event))  # type: ignore[arg-type]
                        else:
                            handler(event)
                    except Exception as exc:
                        raise _HandlerFailed(*_failed(event, handler, exc)) from exc
                store.complete(event.id, claim.token, status=status)
        except _HandlerFailed as failure:
            # The unit of work rolled the handlers' writes back; record the failure apart.
            error, result = failure.error, failure.result
            try:
                store.fail(event.id, claim.token, error=error)
            except Exception as store_exc:
                return unavailable(event.id, store_exc)
            return result
        except Exception as exc:
            return unavailable(event.id, exc)
        return result

    def replay(self, event_id: str, *, force: bool = False) -> WebhookResult:
        """Run a recorded event's handlers again.

        A FAILED event (or one whose worker's lease ran out) is taken over and
        dispatched; with ``force``, a processed, unhandled or ignored one too.
        The result's outcome: ``processed``/``unhandled`` (200), ``failed``
        (500), ``in_flight`` (409: another worker holds it), ``duplicate``
        (200: final and not forced) or ``missing`` (404).
        """
        try:
            claim, stored = self.store.claim_for_replay(event_id, lease=self.lease, force=force)
        except Exception as exc:
            return unavailable(event_id, exc)
        if stored is None:
            return _missing(event_id)
        self.registry.freeze()
        return self.dispatch(parse_event(stored.payload, self.client_factory), claim)

    # -- async -----------------------------------------------------------------------------

    async def adispatch(self, event: Event, claim: Claim) -> WebhookResult:
        """Async twin of ``dispatch``: sync handlers and a blocking store run in a thread."""
        skipped = not_dispatched(event, claim)
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
                error, result = _failed(event, handler, exc)
                try:
                    await self.call_store(self.store.fail, event.id, claim.token, error=error)
                except Exception as store_exc:
                    return unavailable(event.id, store_exc)
                return result
        status, result = _done(event, bool(handlers))
        try:
            await self.call_store(self.store.complete, event.id, claim.token, status=status)
        except Exception as exc:
            return unavailable(event.id, exc)
        return result

    async def areplay(self, event_id: str, *, force: bool = False) -> WebhookResult:
        """Async twin of ``replay``."""
        try:
            claim, stored = await self.call_store(
                self.store.claim_for_replay, event_id, lease=self.lease, force=force
            )
        except Exception as exc:
            return unavailable(event_id, exc)
        if stored is None:
            return _missing(event_id)
        self.registry.freeze()
        return await self.adispatch(parse_event(stored.payload, self.client_factory), claim)

    async def call_store(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a store method from async code: the store's own ``call_async`` if it has
        one (SQL), else a worker thread for a blocking store."""
        call_async = getattr(self.store, "call_async", None)
        if call_async is not None:
            return await call_async(fn, *args, **kwargs)
        if self.store.blocking:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)


# -- results -------------------------------------------------------------------------------


class _HandlerFailed(Exception):
    """Raised through the unit of work so that it rolls back."""

    def __init__(self, error: str, result: WebhookResult) -> None:
        super().__init__(error)
        self.error = error
        self.result = result


def not_dispatched(event: Event, claim: Claim) -> WebhookResult | None:
    """The answer for a delivery whose claim says not to run the handlers, else None."""
    if claim.outcome is ClaimOutcome.DUPLICATE:
        return WebhookResult(200, {"status": "duplicate", "event": event.id}, "duplicate", event.id)
    if claim.outcome is ClaimOutcome.IN_FLIGHT:
        # Non-2xx so Stripe delivers again later, when the holder has finished.
        return WebhookResult(409, {"status": "in_flight", "event": event.id}, "in_flight", event.id)
    return None


def unavailable(event_id: str, exc: BaseException) -> WebhookResult:
    """503: the store could not record the event, so Stripe must deliver it again."""
    logger.error("event store unavailable for %s: %s", event_id, exc)
    return WebhookResult(
        503, {"error": "event store unavailable", "event": event_id}, "unavailable", event_id, exc
    )


def internal_error(exc: BaseException) -> WebhookResult:
    """500 for a fault of the kit's own: logged in full, answered without details.

    No input may make the route raise: a web server that sees an exception may
    close the connection, and later deliveries on it would fail too.
    """
    logger.error("webhook processing failed unexpectedly", exc_info=exc)
    return WebhookResult(500, {"error": "internal error"}, "error", None, exc)


def _missing(event_id: str) -> WebhookResult:
    return WebhookResult(
        404, {"error": f"no recorded event {event_id}", "event": event_id}, "missing", event_id
    )


def _failed(event: Event, handler: Handler, exc: BaseException) -> tuple[str, WebhookResult]:
    name = getattr(handler, "__qualname__", repr(handler))
    logger.error("handler %s failed on %s (%s)", name, event.id, event.type, exc_info=exc)
    error = f"{name}: {''.join(traceback.format_exception(exc)).strip()}"
    result = WebhookResult(500, {"status": "failed", "event": event.id}, "failed", event.id, exc)
    return error, result


def _done(event: Event, handled: bool) -> tuple[EventStatus, WebhookResult]:
    status = EventStatus.PROCESSED if handled else EventStatus.UNHANDLED
    return status, WebhookResult(
        200, {"status": status.value, "event": event.id}, status.value, event.id
    )


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
