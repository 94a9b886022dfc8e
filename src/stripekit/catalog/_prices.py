"""Price ids: from a catalog Price to the Stripe id a Checkout Session needs.

In order: the ``id`` written in the products file; else the environment
variable named by ``id_env``; else Stripe's price with the same ``lookup_key``,
asked for in batches (Stripe takes at most 10 lookup keys per list call) and
cached for ``STRIPEKIT_PRICE_CACHE_TTL`` seconds.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Self

from stripekit._errors import PriceResolutionError
from stripekit._stripe_api import acall_stripe, call_stripe

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions
    from stripe.params import PriceListParams

    from stripekit._settings import Settings

    from ._catalog import Catalog, Price

__all__ = ["PriceResolver"]


@dataclass
class _Answer:
    """What one list call taught us, by lookup key."""

    ids: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


class _PriceResolverBase:
    """Everything but the network: ids from the file or env, the cache, the batches."""

    BATCH_SIZE: ClassVar[int] = 10
    """Stripe's limit on ``lookup_keys`` in one ``prices.list`` call."""

    def __init__(
        self,
        settings: Settings,
        client_factory: Callable[[], stripe.StripeClient],
        *,
        clock: Callable[[], float] = time.monotonic,
        stripe_account: str | None = None,
    ) -> None:
        self.settings = settings
        self._client_factory = client_factory
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, float]] = {}  # lookup_key -> (id, expires at)
        self.stripe_account = stripe_account
        """The connected account whose prices are looked up (Connect); None: the platform."""
        self._accounts: dict[str, Self] = {}

    def _options(self) -> RequestOptions:
        return {"stripe_account": self.stripe_account} if self.stripe_account else {}

    def for_account(self, stripe_account: str | None) -> Self:
        """The resolver of a connected account's prices (its own cache); self for None."""
        if stripe_account is None or stripe_account == self.stripe_account:
            return self
        with self._lock:
            found = self._accounts.get(stripe_account)
            if found is None:
                found = self._accounts[stripe_account] = type(self)(
                    self.settings,
                    self._client_factory,
                    clock=self._clock,
                    stripe_account=stripe_account,
                )
            return found

    def clear(self) -> None:
        """Forget every id found by lookup key (after a products sync moved one)."""
        with self._lock:
            self._cache.clear()

    def _known(self, price: Price) -> str | None:
        """The id without asking Stripe: from the file, the environment or the cache."""
        if price.id is not None:
            return price.id
        if price.id_env is not None:
            value = os.environ.get(price.id_env, "").strip()
            if not value:
                raise PriceResolutionError(
                    f"price {price.key!r} takes its Stripe id from the environment variable "
                    f"{price.id_env}, which is not set: export {price.id_env}=price_..."
                )
            if not value.startswith("price_"):
                raise PriceResolutionError(
                    f"the environment variable {price.id_env} must hold a Stripe price id "
                    f"(price_...) for price {price.key!r}"
                )
            return value
        with self._lock:
            entry = self._cache.get(price.lookup_key)
            if entry is None:
                return None
            if self._clock() >= entry[1]:
                del self._cache[price.lookup_key]
                return None
            return entry[0]

    def _batch_for(self, price: Price, catalog: Catalog | None) -> list[Price]:
        """The price plus up to 9 other unresolved prices of the catalog: one call warms them."""
        batch = [price]
        if catalog is not None:
            for _, other in catalog.prices():
                if len(batch) >= self.BATCH_SIZE:
                    break
                if other.lookup_key != price.lookup_key and self._needs_lookup(other):
                    batch.append(other)
        return batch

    def _needs_lookup(self, price: Price) -> bool:
        if price.id is not None or price.id_env is not None:
            return False
        return self._known(price) is None

    def _batches(self, prices: Iterable[Price]) -> list[list[Price]]:
        pending = list({p.lookup_key: p for p in prices if self._needs_lookup(p)}.values())
        size = self.BATCH_SIZE
        return [pending[i : i + size] for i in range(0, len(pending), size)]

    @staticmethod
    def _list_params(batch: list[Price]) -> PriceListParams:
        return {"lookup_keys": [p.lookup_key for p in batch], "active": True, "limit": 100}

    def _absorb(self, batch: list[Price], listed: Iterable[stripe.Price]) -> _Answer:
        """Cache what Stripe answered; a price whose amount differs from the catalog is refused."""
        by_key = {p.lookup_key: p for p in listed if p.lookup_key}
        answer = _Answer()
        expires = self._clock() + self.settings.price_cache_ttl
        for price in batch:
            found = by_key.get(price.lookup_key)
            if found is None:
                answer.problems[price.lookup_key] = (
                    f"no active Stripe price has lookup_key {price.lookup_key!r} "
                    f"(price {price.key!r}): run `stripekit products sync` to create it, "
                    'or set id = "price_..." for it in the products file'
                )
                continue
            differences = price.differences(found)
            if differences:
                # Charging what Stripe holds would not be what the pricing page shows.
                answer.problems[price.lookup_key] = (
                    f"the Stripe price {found.id} for lookup_key {price.lookup_key!r} does "
                    f"not match the catalog ({'; '.join(differences)}): run "
                    "`stripekit products sync`"
                )
                continue
            answer.ids[price.lookup_key] = found.id
        with self._lock:
            for key, price_id in answer.ids.items():
                self._cache[key] = (price_id, expires)
        return answer

    @staticmethod
    def _pick(price: Price, answer: _Answer) -> str:
        found = answer.ids.get(price.lookup_key)
        if found is None:
            raise PriceResolutionError(answer.problems[price.lookup_key])
        return found

    def _collect(self, catalog: Catalog, answer: _Answer) -> dict[str, str]:
        ids: dict[str, str] = {}
        for _, price in catalog.prices():
            known = answer.ids.get(price.lookup_key) or self._known(price)
            if known is None:
                answer.problems.setdefault(price.lookup_key, f"{price.lookup_key!r}: not found")
            else:
                ids[price.lookup_key] = known
        if answer.problems:
            raise PriceResolutionError("; ".join(answer.problems.values()))
        return ids


class PriceResolver(_PriceResolverBase):
    """Finds the Stripe price id of a catalog Price, sync (``resolve``) or async (``aresolve``).

    Thread-safe; ids found by lookup key are cached for ``settings.price_cache_ttl``
    seconds. ``clock`` is injectable for tests.

    Example:
        >>> resolver = PriceResolver(settings, lambda: make_client(settings))  # doctest: +SKIP
        >>> resolver.resolve(catalog.get("pro").default_price)  # doctest: +SKIP
        'price_1PgafmB7WZ01zgkW6dKueIc5'
    """

    def resolve(self, price: Price, *, catalog: Catalog | None = None) -> str:
        """The Stripe id of ``price``; with ``catalog``, one call also warms up to 9 others."""
        known = self._known(price)
        if known is not None:
            return known
        batch = self._batch_for(price, catalog)
        client = self._client_factory()
        listed = call_stripe(
            partial(client.v1.prices.list, self._list_params(batch), self._options())
        )
        return self._pick(price, self._absorb(batch, listed.data))

    async def aresolve(self, price: Price, *, catalog: Catalog | None = None) -> str:
        """Async twin of ``resolve``."""
        known = self._known(price)
        if known is not None:
            return known
        batch = self._batch_for(price, catalog)
        client = self._client_factory()
        listed = await acall_stripe(
            partial(client.v1.prices.list_async, self._list_params(batch), self._options())
        )
        return self._pick(price, self._absorb(batch, listed.data))

    def resolve_all(self, catalog: Catalog) -> dict[str, str]:
        """Resolve every price of the catalog (a warm-up); lookup_key → id.

        Raises PriceResolutionError naming every price that cannot be resolved.
        """
        answer = _Answer()
        for batch in self._batches(price for _, price in catalog.prices()):
            client = self._client_factory()
            listed = call_stripe(
                partial(client.v1.prices.list, self._list_params(batch), self._options())
            )
            found = self._absorb(batch, listed.data)
            answer.ids.update(found.ids)
            answer.problems.update(found.problems)
        return self._collect(catalog, answer)

    async def aresolve_all(self, catalog: Catalog) -> dict[str, str]:
        """Async twin of ``resolve_all``."""
        answer = _Answer()
        for batch in self._batches(price for _, price in catalog.prices()):
            client = self._client_factory()
            listed = await acall_stripe(
                partial(client.v1.prices.list_async, self._list_params(batch), self._options())
            )
            found = self._absorb(batch, listed.data)
            answer.ids.update(found.ids)
            answer.problems.update(found.problems)
        return self._collect(catalog, answer)
