"""StripeKit: the one object an app builds; it wires settings, catalog, checkout and webhooks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from ._settings import Settings
from .webhooks._registry import WebhookRegistry

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    import stripe

    from ._types import Headers
    from .billing._products import ProductKeys
    from .billing._projection import Mirror
    from .billing._queries import Billing
    from .billing._store import BillingStore
    from .catalog._catalog import Catalog
    from .catalog._prices import PriceResolver
    from .shop._checkout import CheckoutBuilder
    from .shop._intents import PaymentIntents
    from .shop._portal import BillingPortal
    from .webhooks._api_versions import ApiVersions
    from .webhooks._backfill import BackfillReport
    from .webhooks._dispatch import Dispatcher
    from .webhooks._event import Event
    from .webhooks._health import HealthReport, StoreHealth
    from .webhooks._metrics import KitMetrics, ScrapeAnswer
    from .webhooks._observe import DeliveryObserver
    from .webhooks._processing import WebhookProcessor, WebhookResult
    from .webhooks._queue import TaskQueue
    from .webhooks._store import EventStore
    from .webhooks._sweep import SweepReport

__all__ = ["StripeKit"]

_T = TypeVar("_T")


class _built_once(Generic[_T]):
    """A cached property built under the kit's lock.

    functools.cached_property has no lock since Python 3.12, so two threads of a
    web server could each open an event store (two connection pools).
    """

    def __init__(self, build: Callable[[StripeKit], _T]) -> None:
        self._build = build
        self._name = build.__name__
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, kit: None, owner: type[StripeKit]) -> _built_once[_T]: ...
    @overload
    def __get__(self, kit: StripeKit, owner: type[StripeKit]) -> _T: ...
    def __get__(self, kit: StripeKit | None, owner: type[StripeKit]) -> _built_once[_T] | _T:
        if kit is None:
            return self
        cache = kit.__dict__
        try:
            return cache[self._name]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with kit._lock:
            if self._name not in cache:
                cache[self._name] = self._build(kit)
            return cache[self._name]  # type: ignore[no-any-return]


class StripeKit:
    """Everything an integration needs, built lazily from one Settings.

    Nothing heavy happens at construction: the products file is read, the
    Stripe client made and the event store opened on first use.

    Example:
        >>> from stripekit import StripeKit, WebhookRegistry
        >>> webhooks = WebhookRegistry()
        >>> @webhooks.on("checkout.session.completed")
        ... def fulfil(event):
        ...     print("paid:", event.object["id"])
        >>> kit = StripeKit(Settings(secret_key="sk_test_123", webhook_secret="whsec_x"),
        ...                 webhooks=webhooks, store="memory://")
        >>> kit.settings.mode
        'test'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        catalog: Catalog | None = None,
        webhooks: WebhookRegistry | None = None,
        store: EventStore | str | None = None,
        client: stripe.StripeClient | None = None,
        unit_of_work: Callable[[], AbstractContextManager[object]] | None = None,
        billing_store: BillingStore | None = None,
        processing: Literal["inline", "deferred"] | None = None,
        queue: TaskQueue | None = None,
        **settings_values: Any,
    ) -> None:
        if settings is not None and settings_values:
            raise TypeError("pass either a Settings object or setting values, not both")
        self.settings = settings if settings is not None else Settings(**settings_values)
        if processing is not None and processing not in ("inline", "deferred"):
            from ._errors import ConfigurationError

            raise ConfigurationError(
                f"processing={processing!r}: give 'inline' (handlers run in the webhook "
                "request) or 'deferred' (a task queue runs them)"
            )
        self.processing: Literal["inline", "deferred"] = processing or self.settings.processing
        """``inline`` or ``deferred`` (the argument, else ``STRIPEKIT_PROCESSING``)."""
        self._queue = queue
        self.webhooks = webhooks if webhooks is not None else WebhookRegistry()
        self._catalog = catalog
        self._store_arg = store
        self._client = client
        self._unit_of_work = unit_of_work
        self._billing_store_arg = billing_store
        self._async_http: stripe.HTTPXClient | None = None
        # Re-entrant: building the processor builds the store under the same lock.
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<StripeKit mode={self.settings.mode} api_base={self.settings.api_base!r}>"

    @property
    def client(self) -> stripe.StripeClient:
        """The Stripe client (made on first use from the settings)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import stripe

                    from ._stripe_api import make_client

                    # Made here, not by stripe-python, so that aclose() can close it.
                    self._async_http = stripe.HTTPXClient()
                    http = stripe.RequestsClient(async_fallback_client=self._async_http)
                    self._client = make_client(self.settings, http_client=http)
        return self._client

    def _client_factory(self) -> stripe.StripeClient:
        return self.client

    @property
    def catalog(self) -> Catalog:
        """The products catalog, loaded from ``STRIPEKIT_PRODUCTS`` on first use."""
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = self._load_catalog()
        return self._catalog

    def _load_catalog(self) -> Catalog:
        from ._errors import ConfigurationError
        from .catalog._catalog import Catalog

        if self.settings.products is None:
            raise ConfigurationError(
                "no products: set STRIPEKIT_PRODUCTS to your products file "
                "(e.g. products.toml) or pass catalog= to StripeKit"
            )
        return Catalog.load(self.settings.products)

    @_built_once
    def store(self) -> EventStore:
        """The event store: the one passed in, or opened from ``STRIPEKIT_DATABASE_URL``."""
        from .store._factory import open_store
        from .store._timeouts import StoreTimeouts

        s = self.settings
        timeouts = StoreTimeouts(
            connect=s.database_connect_timeout,
            statement=s.database_statement_timeout,
            lock=s.database_lock_timeout,
        )
        arg = self._store_arg
        if arg is None:
            return open_store(s.database_url.get_secret_value(), timeouts=timeouts)
        if isinstance(arg, str):
            return open_store(arg, timeouts=timeouts)
        return arg

    @_built_once
    def prices(self) -> PriceResolver:
        """Resolves catalog prices to Stripe price ids (cached)."""
        from .catalog._prices import PriceResolver

        return PriceResolver(self.settings, self._client_factory)

    @_built_once
    def checkout(self) -> CheckoutBuilder:
        """Builds and creates Checkout Sessions from the catalog."""
        from .shop._checkout import CheckoutBuilder

        return CheckoutBuilder(self.settings, self.catalog, self.prices, self._client_factory)

    @_built_once
    def payments(self) -> PaymentIntents:
        """Payments priced by the catalog, for the Payment Element:
        ``kit.payments.create_intent("book", 2, buyer)``, or
        ``kit.payments.create_subscription("pro", buyer)`` for a subscription."""
        from .shop._intents import PaymentIntents

        return PaymentIntents(
            self.settings,
            self.catalog,
            self._client_factory,
            linked_customer=self.linked_customer,
            alinked_customer=self.alinked_customer,
            prices=self.prices,
        )

    @_built_once
    def portal(self) -> BillingPortal:
        """Creates billing portal sessions."""
        from .shop._portal import BillingPortal

        return BillingPortal(self.settings, self._client_factory)

    @_built_once
    def processor(self) -> WebhookProcessor:
        """Verifies, records and dispatches webhook deliveries."""
        from .webhooks._processing import WebhookProcessor

        s = self.settings
        return WebhookProcessor(
            secrets=s.require_webhook_secrets(),
            store=self.store,
            registry=self.webhooks,
            tolerance=s.webhook_tolerance,
            max_body_bytes=s.webhook_max_bytes,
            livemode=s.livemode,
            reject_livemode_mismatch=s.reject_livemode_mismatch,
            lease=s.claim_lease,
            client_factory=self._client_factory if s.secret_key is not None else None,
            unit_of_work=self._unit_of_work,
            handler_timeout=s.handler_timeout,
            handler_threads=s.handler_threads,
            first=self._kit_handlers,
            queue=self._deferred_queue(),
            observer=self._observer,
            api_versions=self.api_versions,
        )

    @_built_once
    def api_versions(self) -> ApiVersions:
        """The API versions of the events the kit processed (``seen``: version → count),
        against ``STRIPEKIT_API_VERSION`` (``expected``); one warning per other version."""
        from .webhooks._api_versions import ApiVersions

        return ApiVersions(self.settings.api_version)

    @property
    def api_versions_seen(self) -> Mapping[str, int]:
        """API version → how many events of it the kit processed (deliveries, replays,
        backfills), e.g. ``{"2026-10-28.endive": 1200, "2024-06-20": 3}``."""
        return self.api_versions.seen

    @_built_once
    def _observer(self) -> DeliveryObserver:
        """Reports every delivery and replay: the log record, the metrics, the spans."""
        from .webhooks._observe import DeliveryObserver

        return DeliveryObserver(self.metrics if self.metrics_on else None)

    @property
    def metrics_on(self) -> bool:
        """Whether deliveries are counted in Prometheus metrics: ``STRIPEKIT_METRICS`` if
        set, else whenever prometheus-client is installed."""
        if self.settings.metrics is not None:
            return self.settings.metrics
        import importlib.util

        return importlib.util.find_spec("prometheus_client") is not None

    @_built_once
    def metrics(self) -> KitMetrics:
        """This kit's Prometheus metrics, a prometheus-client collector: served by
        ``GET /stripe/metrics``, or added to the app's own registry
        (``REGISTRY.register(kit.metrics)``). Needs ``pip install "stripekit[metrics]"``."""
        from .webhooks._metrics import KitMetrics

        return KitMetrics(self.store)

    def scrape_metrics(self, authorization: str | None) -> ScrapeAnswer:
        """The answer of ``GET /stripe/metrics`` to a request with this ``Authorization``
        header (it asks the store: call it from a worker thread in async code)."""
        from .webhooks._metrics import scrape

        token = self.settings.metrics_token
        return scrape(
            lambda: self.metrics if self.metrics_on else None,
            token.get_secret_value() if token is not None else None,
            authorization,
        )

    def _deferred_queue(self) -> TaskQueue | None:
        if self.processing == "inline":
            return None
        if self._queue is None:
            from ._errors import ConfigurationError

            raise ConfigurationError(
                "deferred processing (STRIPEKIT_PROCESSING=deferred) needs a task queue: pass "
                "queue= to StripeKit, or wire one, e.g. stripekit.queues.celery.register(app, "
                "kit) (docs/scale.md)"
            )
        return self._queue

    @property
    def queue(self) -> TaskQueue | None:
        """The task queue deferred mode sends event ids to (None until one is set)."""
        return self._queue

    def use_queue(self, queue: TaskQueue) -> None:
        """Set the task queue deferred mode sends event ids to (what the adapters'
        ``register`` calls); takes effect at once, even after the first delivery.

        Example:
            >>> kit.use_queue(MyQueue())  # doctest: +SKIP
        """
        if not callable(getattr(queue, "enqueue", None)):
            from ._errors import ConfigurationError

            raise ConfigurationError(
                f"{type(queue).__name__} is not a task queue: it needs an "
                "enqueue(event_id) method (see stripekit.TaskQueue)"
            )
        with self._lock:
            self._queue = queue
            made = self.__dict__.get("processor")
            if made is not None and self.processing == "deferred":
                made.queue = queue

    @_built_once
    def dispatcher(self) -> Dispatcher:
        """Runs handlers for recorded events (replays); needs no webhook secret."""
        from .webhooks._dispatch import Dispatcher

        factory = self._client_factory if self.settings.secret_key is not None else None
        return Dispatcher(
            self.store,
            self.webhooks,
            lease=self.settings.claim_lease,
            client_factory=factory,
            unit_of_work=self._unit_of_work,
            handler_timeout=self.settings.handler_timeout,
            handler_threads=self.settings.handler_threads,
            first=self._kit_handlers,
            observer=self._observer,
            api_versions=self.api_versions,
        )

    # -- the billing state --------------------------------------------------------------------

    @_built_once
    def billing(self) -> Billing:
        """Who has paid for what: ``kit.billing.is_subscribed(user, "pro")``, ``purchases``,
        ``entitlements``, ``credits.balance``... (see docs/billing.md)."""
        from datetime import timedelta

        from .billing._queries import Billing

        self._require_billing()
        catalog = self._catalog_or_none()
        return Billing(
            self.billing_store,
            self._product_keys,
            grace=timedelta(days=self.settings.billing_grace_days),
            mirror=self.billing_mirror,
            client_factory=self._client_factory,
            catalog=catalog,
            prices=self.prices if catalog is not None else None,
        )

    def _require_billing(self) -> None:
        if not self.billing_on:
            from ._errors import ConfigurationError

            raise ConfigurationError(
                "the billing state is off: it needs STRIPE_SECRET_KEY (the mirror asks Stripe "
                "to settle ties), and STRIPEKIT_BILLING not false"
            )

    @property
    def billing_on(self) -> bool:
        """Whether the kit keeps the billing state: ``STRIPEKIT_BILLING`` if set, else
        whenever there is a secret key and a billing store beside the event store."""
        if self.settings.billing is not None:
            return self.settings.billing
        return self.settings.secret_key is not None and self._billing_store_possible()

    def _billing_store_possible(self) -> bool:
        if self._billing_store_arg is not None:
            return True
        from .store._memory import MemoryEventStore
        from .store._sql import SQLEventStore

        return isinstance(self.store, SQLEventStore | MemoryEventStore)

    @_built_once
    def billing_store(self) -> BillingStore:
        """Where the billing state lives: beside the events, in the event store's database."""
        if self._billing_store_arg is not None:
            return self._billing_store_arg
        from .store._memory import MemoryEventStore
        from .store._sql import SQLEventStore

        store = self.store
        if isinstance(store, SQLEventStore):
            from .billing._sql import SQLBillingStore

            return SQLBillingStore(store)
        if isinstance(store, MemoryEventStore):
            from .billing._memory import MemoryBillingStore

            return MemoryBillingStore()
        from ._errors import ConfigurationError

        raise ConfigurationError(
            f"no billing store for an event store of type {type(store).__name__}: pass "
            "billing_store= to StripeKit, or turn the billing state off (STRIPEKIT_BILLING=false)"
        )

    def _catalog_or_none(self) -> Catalog | None:
        if self._catalog is None and self.settings.products is not None:
            return self.catalog
        return self._catalog

    @_built_once
    def _product_keys(self) -> ProductKeys:
        from .billing._products import ProductKeys

        return ProductKeys(self._catalog_or_none())

    @_built_once
    def billing_mirror(self) -> Mirror:
        """What applies events to the billing state, and repairs it from Stripe
        (``stripekit billing sync``): its store, the catalog's products and the settings'
        rules (refetch, credits clawback)."""
        from .billing._projection import Mirror

        self._require_billing()
        s = self.settings
        return Mirror(
            self.billing_store,
            self._product_keys,
            self._client_factory if s.secret_key is not None else None,
            refetch=s.billing_refetch,
            clawback=s.credits_clawback,
        )

    @_built_once
    def _kit_handlers(self) -> WebhookRegistry | None:
        """The kit's own handlers, run before the app's: the billing mirror's."""
        if not self.billing_on:
            return None
        from .billing._projection import EVENT_PATTERNS
        from .webhooks._registry import TwinHandler

        mirror = self.billing_mirror
        registry = WebhookRegistry()

        def billing_state(event: Event) -> None:
            mirror.apply(event)

        async def abilling_state(event: Event) -> None:
            await mirror.aapply(event)

        registry.register(EVENT_PATTERNS, TwinHandler(billing_state, abilling_state))
        return registry

    def linked_customer(self, user: str, account: str | None = None) -> str | None:
        """The Stripe customer a checkout for ``user`` reuses (None with the billing state off).

        ``account``: the connected account (Connect, ``acct_...``) the checkout is made in;
        None, the default, is the platform's own. A customer is only ever reused in its
        own account: a user who bought on two connected accounts has a customer in each.

        Example:
            >>> kit.linked_customer("user-42", account="acct_1Q...")  # doctest: +SKIP
            'cus_R...'
        """
        if not self.billing_on:
            return None
        customer: str | None = self.billing.customer_for(user, account=account)
        return customer

    async def alinked_customer(self, user: str, account: str | None = None) -> str | None:
        """Async twin of ``linked_customer``."""
        if not self.billing_on:
            return None
        customer: str | None = await self.billing.acustomer_for(user, account=account)
        return customer

    def replay(self, event_id: str, *, force: bool = False) -> WebhookResult:
        """Run a recorded event's handlers again: a failed one, or any with ``force``.

        Example:
            >>> kit.replay("evt_1N...")  # doctest: +SKIP
            WebhookResult(status=200, body={'status': 'processed', ...}, ...)
        """
        return self.dispatcher.replay(event_id, force=force)

    async def areplay(self, event_id: str, *, force: bool = False) -> WebhookResult:
        """Async twin of ``replay``."""
        return await self.dispatcher.areplay(event_id, force=force)

    def run_deferred(self, event_id: str) -> WebhookResult:
        """Run a queued event's handlers: what a deferred task calls. Idempotent.

        The store's claim decides who runs an event, so a task delivered twice,
        or racing the sweeper, runs the handlers once. Raises
        ``DeferredProcessingError`` when they did not run to the end (a handler
        raised, the store is unreachable, no such event), so that the queue's
        own retry policy retries the task; the store shows the event ``failed``
        with its error meanwhile.

        Example:
            >>> kit.run_deferred("evt_1N...").outcome  # doctest: +SKIP
            'processed'
        """
        return _deferred_outcome(self.dispatcher.run_deferred(event_id))

    async def arun_deferred(self, event_id: str) -> WebhookResult:
        """Async twin of ``run_deferred`` (async handlers run on the worker's loop)."""
        return _deferred_outcome(await self.dispatcher.arun_deferred(event_id))

    def sweep(
        self,
        *,
        grace: float | None = None,
        max_attempts: int | None = None,
        limit: int = 1000,
    ) -> SweepReport:
        """Run the events left behind: ``queued`` for longer than ``grace`` seconds,
        ``failed`` with fewer than ``max_attempts`` attempts, ``processing`` past its
        worker's lease (or whose worker died). Safe to call from several machines at
        once, on a schedule (cron, Celery beat); see docs/scale.md.

        ``grace`` and ``max_attempts`` default to ``STRIPEKIT_SWEEP_GRACE`` and
        ``STRIPEKIT_SWEEP_MAX_ATTEMPTS``.

        Example:
            >>> kit.sweep().counts  # doctest: +SKIP
            {'processed': 3, 'failed': 1}
        """
        from .webhooks._sweep import sweep

        s = self.settings
        return sweep(
            self.dispatcher,
            grace=s.sweep_grace if grace is None else grace,
            max_attempts=s.sweep_max_attempts if max_attempts is None else max_attempts,
            limit=limit,
        )

    async def asweep(
        self,
        *,
        grace: float | None = None,
        max_attempts: int | None = None,
        limit: int = 1000,
    ) -> SweepReport:
        """Async twin of ``sweep``."""
        from .webhooks._sweep import asweep

        s = self.settings
        return await asweep(
            self.dispatcher,
            grace=s.sweep_grace if grace is None else grace,
            max_attempts=s.sweep_max_attempts if max_attempts is None else max_attempts,
            limit=limit,
        )

    def backfill(
        self,
        *,
        since: datetime | timedelta,
        types: Sequence[str] = (),
        stripe_account: str | None = None,
    ) -> BackfillReport:
        """Run the events Stripe sent (or failed to send) since ``since`` that the store never
        recorded, oldest first, through the same claim and handlers as a delivery.

        Safe at any time, beside live deliveries: the store's claim runs each event
        once. Stripe keeps 30 days of events; ``since`` may not go further back.

        Example:
            >>> report = kit.backfill(since=timedelta(days=3))  # doctest: +SKIP
            >>> report.new, report.processed, report.failed  # doctest: +SKIP
            (2, 2, 0)
        """
        from .webhooks._backfill import backfill

        return backfill(
            self.dispatcher,
            self.client,
            since=since,
            types=types,
            stripe_account=stripe_account,
            livemode=self.settings.livemode,
        )

    async def abackfill(
        self,
        *,
        since: datetime | timedelta,
        types: Sequence[str] = (),
        stripe_account: str | None = None,
    ) -> BackfillReport:
        """Async twin of ``backfill``."""
        from .webhooks._backfill import abackfill

        return await abackfill(
            self.dispatcher,
            self.client,
            since=since,
            types=types,
            stripe_account=stripe_account,
            livemode=self.settings.livemode,
        )

    async def aclose(self) -> None:
        """Close the async HTTP client, stop the handler threads and close the event store
        the kit made (one passed in as an object is yours to close); call it when the app
        shuts down.

        Example:
            >>> app = FastAPI(lifespan=...)  # on shutdown: await kit.aclose()  # doctest: +SKIP
        """
        self.close()
        if self._async_http is not None:
            await self._async_http.close_async()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """``aclose`` for an app without an event loop (Django, a script): stops the
        handler threads and closes the event store the kit made (its connections).

        Example:
            >>> kit = StripeKit(secret_key="sk_test_x", store="sqlite://")
            >>> kit.store.list()
            []
            >>> kit.close()
        """
        for built in ("processor", "dispatcher"):
            made = self.__dict__.get(built)
            if made is not None:
                made.close()
        store = self.__dict__.get("store")
        if store is not None and (self._store_arg is None or isinstance(self._store_arg, str)):
            close = getattr(store, "close", None)
            if close is not None:
                close()

    @_built_once
    def _store_health(self) -> StoreHealth:
        from .webhooks._health import StoreHealth

        return StoreHealth(self.store)

    def health(self) -> HealthReport:
        """Whether the event store answers, and how many events wait (the health route's
        answer: 200 with counts and ages only, or 503; kept for a second).

        Example:
            >>> kit.health().body["store"]  # doctest: +SKIP
            'ok'
        """
        try:
            store_health = self._store_health
        except Exception as exc:  # the store could not even be opened
            from .webhooks._health import unavailable

            return unavailable(exc)
        return store_health.check()

    async def ahealth(self) -> HealthReport:
        """Async twin of ``health``: the store is asked without blocking the loop, and
        given up on at its deadline."""
        try:
            store_health = self._store_health
            call = self.dispatcher.call_store
        except Exception as exc:
            from .webhooks._health import unavailable

            return unavailable(exc)
        return await store_health.acheck(call)

    def handle_webhook(self, body: bytes, headers: Headers) -> WebhookResult:
        """Process one webhook delivery: what an integration's webhook route calls."""
        return self.processor.process(body, headers)

    async def ahandle_webhook(self, body: bytes, headers: Headers) -> WebhookResult:
        """Async twin of ``handle_webhook``."""
        return await self.processor.aprocess(body, headers)


def _deferred_outcome(result: WebhookResult) -> WebhookResult:
    """The result of a deferred task, or the error that makes its queue retry it."""
    if result.outcome in ("failed", "unavailable", "error", "missing"):
        from ._errors import DeferredProcessingError

        raise DeferredProcessingError(result)
    return result
