"""Running a claimed event's handlers and recording how it went.

The WebhookProcessor hands over each delivery it has verified and claimed;
``replay`` takes a recorded event over from the store (``stripekit events
replay``, the Django admin's action, a task-queue worker in deferred mode).
Neither needs the webhook secret: what runs here was verified when received.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING, Any

from stripekit._errors import ConfigurationError, EventStoreError

from ._api_versions import ApiVersions
from ._deadline import Deadlines
from ._event import Event, parse_event
from ._observe import DeliveryObserver, DeliveryStats
from ._registry import TwinHandler, WebhookRegistry, is_async_handler
from ._store import Claim, ClaimOutcome, EventStatus, EventStore, StoreCall

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
            of the kit's own), (deferred mode) ``queued`` or (replay) ``missing``.
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
        lease: float = 60.0,
        client_factory: Callable[[], stripe.StripeClient] | None = None,
        unit_of_work: Callable[[], AbstractContextManager[object]] | None = None,
        handler_timeout: float = 10.0,
        handler_threads: int = 8,
        store_deadline: float | None = None,
        first: WebhookRegistry | None = None,
        observer: DeliveryObserver | None = None,
        api_versions: ApiVersions | None = None,
    ) -> None:
        if not 0 < handler_timeout < lease:
            raise ConfigurationError(
                f"the handler time budget ({handler_timeout:g} s) must be positive and "
                f"shorter than the claim lease ({lease:g} s)"
            )
        self.store = store
        self.registry = registry
        self.first = first
        """Handlers that run before the registry's, in the same unit of work (the kit's
        own: the billing mirror), so that the app's handlers see what they wrote."""
        self.lease = lease
        self.client_factory = client_factory
        self.unit_of_work = unit_of_work or nullcontext
        """Wraps a delivery's handlers and its completion (sync path), e.g. Django's
        ``transaction.atomic``: the handlers' own writes and the event's status commit
        together, or roll back together when a handler raises."""
        self._retry_completion = unit_of_work is None
        self.handler_timeout = handler_timeout
        """Seconds a delivery's handlers may run together on the async path."""
        self.handler_threads = handler_threads
        self.store_deadline = store_deadline if store_deadline is not None else _deadline(store)
        """Seconds an async caller waits for one call of a blocking store (None: no limit)."""
        self.api_versions = api_versions if api_versions is not None else ApiVersions()
        """The API versions of the events dispatched (``seen``), against the kit's."""
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._releases: set[asyncio.Future[Any]] = set()
        self._deadlines = Deadlines(self._give_up)
        self.observer = observer if observer is not None else DeliveryObserver()
        """Reports each replay: its log record, metrics and spans."""

    def __repr__(self) -> str:
        return f"<Dispatcher store={type(self.store).__name__}>"

    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        """The handlers an event of this type runs: ``first``'s, then the registry's."""
        own = self.registry.handlers_for(event_type)
        if self.first is None:
            return own
        return self.first.handlers_for(event_type) + own

    def freeze(self) -> None:
        """Close registration: events flow (see ``WebhookRegistry.freeze``)."""
        self.registry.freeze()
        if self.first is not None:
            self.first.freeze()

    # -- sync ------------------------------------------------------------------------------

    def dispatch(
        self, event: Event, claim: Claim, stats: DeliveryStats | None = None
    ) -> WebhookResult:
        """Run the handlers if the claim says so, then record the event's new status.

        ``stats`` (the delivery's, from its processor) gets the time spent in the
        handlers and in the store.
        """
        skipped = not_dispatched(event, claim)
        if skipped is not None:
            return skipped
        self.api_versions.observe(event)
        if stats is None:
            stats = DeliveryStats()
        started, handler_s = perf_counter(), stats.handler_s
        try:
            with stats.span("stripekit.webhook.dispatch"):
                return self._dispatch(event, claim, stats)
        finally:
            # Whatever the handlers did not take went to the store (and the unit of work).
            stats.store_s += perf_counter() - started - (stats.handler_s - handler_s)

    def _dispatch(self, event: Event, claim: Claim, stats: DeliveryStats) -> WebhookResult:
        store = self.store
        handlers = self.handlers_for(event.type)
        status, result = _done(event, bool(handlers))
        try:
            with self.unit_of_work():
                for handler in handlers:
                    began = perf_counter()
                    try:
                        with stats.handler_span(handler):
                            if is_async_handler(handler):
                                _refuse_inside_running_loop(handler)
                                asyncio.run(handler(event))  # type: ignore[arg-type]
                            else:
                                handler(event)
                    except Exception as exc:
                        stats.failed_handler = _name(handler)
                        raise _HandlerFailed(*_failed(event, handler, exc)) from exc
                    finally:
                        stats.handler_s += perf_counter() - began
                if self._retry_completion:
                    _finish_retried(store.complete, event, claim.token, status=status)
                else:
                    # Inside the app's transaction: a failed write there cannot be retried.
                    _finished(store.complete(event.id, claim.token, status=status), event)
        except _HandlerFailed as failure:
            # The unit of work rolled the handlers' writes back; record the failure apart.
            error, result = failure.error, failure.result
            try:
                _finish_retried(store.fail, event, claim.token, error=error)
            except Exception as store_exc:
                return unavailable(event.id, store_exc)
            return result
        except Exception as exc:
            return unavailable(event.id, exc)
        return result

    def replay(
        self, event_id: str, *, force: bool = False, max_attempts: int | None = None
    ) -> WebhookResult:
        """Run a recorded event's handlers again.

        A QUEUED or FAILED event (or one whose worker's lease ran out) is taken
        over and dispatched; with ``force``, a processed, unhandled or ignored
        one too; with ``max_attempts``, only one whose handlers started fewer
        times (the sweeper's budget). The result's outcome:
        ``processed``/``unhandled`` (200), ``failed`` (500), ``in_flight``
        (409: another worker holds it), ``duplicate`` (200: final, not forced, or
        out of attempts) or ``missing`` (404).
        """
        observer = self.observer
        stats = observer.start()
        with observer.root_span(stats, "stripekit.webhook.replay"):
            result = self._replay(event_id, force, max_attempts, stats)
            observer.finish(stats, result, "replay")
        return result

    def _replay(
        self, event_id: str, force: bool, max_attempts: int | None, stats: DeliveryStats
    ) -> WebhookResult:
        started = perf_counter()
        try:
            with stats.span("stripekit.webhook.claim"):
                claim, stored = self.store.claim_for_replay(
                    event_id, lease=self.lease, force=force, **_budget(max_attempts)
                )
        except Exception as exc:
            return unavailable(event_id, exc)
        finally:
            stats.store_s += perf_counter() - started
        if stored is None:
            return _missing(event_id)
        self.freeze()
        event = stats.event = parse_event(stored.payload, self.client_factory)
        stats.attempts = claim.attempts
        return self.dispatch(event, claim, stats)

    # -- async -----------------------------------------------------------------------------

    async def adispatch(
        self, event: Event, claim: Claim, stats: DeliveryStats | None = None
    ) -> WebhookResult:
        """Async twin of ``dispatch``: sync handlers run on the kit's own threads, and all
        of a delivery's handlers within ``handler_timeout`` seconds."""
        skipped = not_dispatched(event, claim)
        if skipped is not None:
            return skipped
        self.api_versions.observe(event)
        if stats is None:
            stats = DeliveryStats()
        started, handler_s = perf_counter(), stats.handler_s
        try:
            with stats.span("stripekit.webhook.dispatch"):
                return await self._adispatch(event, claim, stats)
        finally:
            stats.store_s += perf_counter() - started - (stats.handler_s - handler_s)

    async def _adispatch(self, event: Event, claim: Claim, stats: DeliveryStats) -> WebhookResult:
        handlers = self.handlers_for(event.type)
        began = perf_counter()
        failure = await self._arun_handlers(event, handlers, stats) if handlers else None
        stats.handler_s += perf_counter() - began
        if failure is not None:
            error, result = failure
            try:
                await self._afinish(self.store.fail, event, claim.token, error=error)
            except Exception as store_exc:
                return unavailable(event.id, store_exc)
            return result
        status, result = _done(event, bool(handlers))
        try:
            await self._afinish(self.store.complete, event, claim.token, status=status)
        except Exception as exc:
            return unavailable(event.id, exc)
        return result

    async def _arun_handlers(
        self, event: Event, handlers: tuple[Handler, ...], stats: DeliveryStats
    ) -> tuple[str, WebhookResult] | None:
        """Run the handlers in order within the time budget: None, or why they failed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.handler_timeout
        for handler in handlers:
            budget = asyncio.timeout_at(deadline)
            try:
                with stats.handler_span(handler):
                    async with budget:
                        if isinstance(handler, TwinHandler):
                            await handler.run_async(event)
                        elif is_async_handler(handler):
                            await handler(event)  # type: ignore[misc]
                        else:
                            run = functools.partial(contextvars.copy_context().run, handler, event)
                            await loop.run_in_executor(self._handler_pool(), run)
            except TimeoutError as exc:
                stats.failed_handler = _name(handler)
                if budget.expired():
                    return _timed_out(event, handler, self.handler_timeout)
                return _failed(event, handler, exc)
            except Exception as exc:
                stats.failed_handler = _name(handler)
                return _failed(event, handler, exc)
        return None

    async def _afinish(
        self, method: Callable[..., bool], event: Event, token: str, **values: Any
    ) -> None:
        """Record the outcome, retrying a failed write (bounded); say so if the claim was lost."""
        for pause in _RETRY_PAUSES:
            try:
                done = await self.call_store(method, event.id, token, **values)
            except Exception as exc:
                if pause is None:
                    raise
                logger.warning("recording %s's outcome failed, retrying: %s", event.id, exc)
                await asyncio.sleep(pause)
                continue
            _finished(done, event)
            return

    def _handler_pool(self) -> ThreadPoolExecutor:
        # The kit's own threads for sync handlers: a handler that blocks ties up one of
        # them, never the threads the event store's I/O runs on.
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        max_workers=self.handler_threads, thread_name_prefix="stripekit-handler"
                    )
        return self._pool

    def close(self) -> None:
        """Stop the handler threads (those still running a handler finish first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def run_deferred(self, event_id: str) -> WebhookResult:
        """Run a queued event's handlers: what a task of deferred mode does.

        The store's claim decides: a task delivered twice, or racing the sweeper,
        finds the event ``duplicate`` (done) or ``in_flight`` (held) and runs
        nothing. Same outcomes as ``replay`` (it is a replay without ``force``).
        """
        return self.replay(event_id)

    async def arun_deferred(self, event_id: str) -> WebhookResult:
        """Async twin of ``run_deferred``."""
        return await self.areplay(event_id)

    async def areplay(
        self, event_id: str, *, force: bool = False, max_attempts: int | None = None
    ) -> WebhookResult:
        """Async twin of ``replay``."""
        observer = self.observer
        stats = observer.start()
        with observer.root_span(stats, "stripekit.webhook.replay"):
            result = await self._areplay(event_id, force, max_attempts, stats)
            observer.finish(stats, result, "replay")
        return result

    async def _areplay(
        self, event_id: str, force: bool, max_attempts: int | None, stats: DeliveryStats
    ) -> WebhookResult:
        started = perf_counter()
        try:
            with stats.span("stripekit.webhook.claim"):
                claim, stored = await self.call_store(
                    self.store.claim_for_replay,
                    event_id,
                    lease=self.lease,
                    force=force,
                    **_budget(max_attempts),
                )
        except Exception as exc:
            return unavailable(event_id, exc)
        finally:
            stats.store_s += perf_counter() - started
        if stored is None:
            return _missing(event_id)
        self.freeze()
        event = stats.event = parse_event(stored.payload, self.client_factory)
        stats.attempts = claim.attempts
        return await self.adispatch(event, claim, stats)

    async def call_store(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a store method from async code: the store's own ``call_async`` if it has
        one (the SQL store's batches), else a worker thread for a blocking store; either
        given up on after ``store_deadline`` seconds (the delivery is then answered 503)."""
        call_async = getattr(self.store, "call_async", None)
        if call_async is not None:
            running = call_async(fn, *args, **kwargs)
        elif not self.store.blocking:
            return fn(*args, **kwargs)
        else:
            running = asyncio.to_thread(fn, *args, **kwargs)
        deadline = self.store_deadline
        if deadline is None:
            return await running
        if isinstance(running, StoreCall):
            # Awaited as it is, under the one timer per loop of ``_deadline``.
            self._deadlines.watch(running, deadline, args)
            try:
                return await running
            finally:
                self._deadlines.unwatch(running)
        # Anything else (a worker thread's task) under a timer of its own.
        call = running if isinstance(running, asyncio.Future) else asyncio.ensure_future(running)
        try:
            async with asyncio.timeout(deadline):
                return await asyncio.shield(call)
        except TimeoutError:
            event_id = _event_id(args)
            if event_id is not None:
                call.add_done_callback(_result_of(functools.partial(self._release_late, event_id)))
            raise self._too_late() from None

    def _give_up(self, call: StoreCall[Any], args: tuple[Any, ...]) -> None:
        """The deadline passed: the caller gets the error now, the late claim is let go."""
        event_id = _event_id(args)
        if event_id is not None:
            call.late = functools.partial(self._release_late, event_id)
        call.set_exception(self._too_late())

    def _too_late(self) -> EventStoreError:
        # The call goes on (in its thread or batch). Should it claim the event after all,
        # the claim is let go at once (``_release_late``): nobody will run the handlers for
        # it, and the next delivery must not find the event in flight until the lease ends.
        return EventStoreError(
            f"the event store did not answer within {self.store_deadline:g} s "
            "(its connect and statement timeouts, plus a second)"
        )

    def _release_late(self, event_id: str, result: Any) -> None:
        claim = result[0] if isinstance(result, tuple) else result
        if not isinstance(claim, Claim) or not claim.outcome.should_process:
            return
        error = f"released: the event store answered after {self.store_deadline:g} s, too late"
        task = asyncio.ensure_future(
            asyncio.to_thread(self.store.fail, event_id, claim.token, error=error)
        )
        self._releases.add(task)  # a reference, so that the task is not collected
        task.add_done_callback(self._releases.discard)


def _event_id(args: tuple[Any, ...]) -> str | None:
    """The event a store call is about: its first argument (an Event, or an event id)."""
    if not args:
        return None
    return args[0].id if isinstance(args[0], Event) else str(args[0])


def _result_of(use: Callable[[Any], None]) -> Callable[[asyncio.Future[Any]], None]:
    """A done-callback handing a future's result to ``use`` (nothing if it failed)."""

    def done(call: asyncio.Future[Any]) -> None:
        if not call.cancelled() and call.exception() is None:
            use(call.result())

    return done


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


_RETRY_PAUSES = (0.05, 0.25, None)
"""Seconds between attempts to record an outcome; None: the last attempt."""


def _finish_retried(method: Callable[..., bool], event: Event, token: str, **values: Any) -> None:
    for pause in _RETRY_PAUSES:
        try:
            done = method(event.id, token, **values)
        except Exception as exc:
            if pause is None:
                raise
            logger.warning("recording %s's outcome failed, retrying: %s", event.id, exc)
            time.sleep(pause)
            continue
        _finished(done, event)
        return


def _finished(done: bool, event: Event) -> None:
    if not done:
        # The claim ran out (the handlers took longer than the lease) and another
        # delivery took the event over: that one's outcome stands, and the handlers
        # ran twice. Loud, because it means the lease is too short for them.
        logger.error(
            "the outcome of %s (%s) was not recorded: its claim was lost, another delivery "
            "took the event over after the lease ran out; the handlers may have run twice "
            "(raise STRIPEKIT_CLAIM_LEASE above the handlers' longest run)",
            event.id,
            event.type,
        )


def _deadline(store: EventStore) -> float | None:
    timeouts = getattr(store, "timeouts", None)
    deadline = getattr(timeouts, "deadline", None)
    return float(deadline) if isinstance(deadline, int | float) else None


def _timed_out(event: Event, handler: Handler, budget: float) -> tuple[str, WebhookResult]:
    name = getattr(handler, "__qualname__", repr(handler))
    logger.error(
        "handler %s on %s (%s) timed out after %g s (STRIPEKIT_HANDLER_TIMEOUT); the event "
        "is recorded failed and Stripe will deliver it again",
        name,
        event.id,
        event.type,
        budget,
    )
    error = f"{name}: timed out after {budget:g} s (STRIPEKIT_HANDLER_TIMEOUT)"
    result = WebhookResult(500, {"status": "failed", "event": event.id}, "failed", event.id)
    return error, result


def _budget(max_attempts: int | None) -> dict[str, int]:
    # Only the sweeper sets a budget: a replay or a task calls an event store written
    # before ``max_attempts`` existed exactly as it always did.
    return {} if max_attempts is None else {"max_attempts": max_attempts}


def _missing(event_id: str) -> WebhookResult:
    return WebhookResult(
        404, {"error": f"no recorded event {event_id}", "event": event_id}, "missing", event_id
    )


def _name(handler: object) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


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
