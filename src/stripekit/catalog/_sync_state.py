"""What a Stripe account holds that products sync compares the catalog with.

Read with a handful of list calls: every product (managed ones are found by
the metadata tag sync puts on what it creates, or by the ``id`` a products
file names), the active prices of managed products, and the active prices
holding the catalog's lookup keys (a lookup-key listing also returns archived
prices unless asked for active ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stripekit._connect import is_account_id
from stripekit._errors import ConfigurationError
from stripekit._stripe_api import call_stripe

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions
    from stripe.params import PriceListParams

    from ._catalog import Catalog

__all__ = ["PRODUCT_TAG", "AccountState", "read_account"]

PRODUCT_TAG = "stripekit_product"
"""Metadata key on products and prices that sync manages: the catalog's product key."""

# Stripe accepts at most 10 lookup_keys per price listing.
_LOOKUP_BATCH = 10


@dataclass
class AccountState:
    """The account's products and prices, as plain dicts, indexed the ways sync needs."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every product by id (active or archived)."""
    prices_by_lookup_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Active prices by lookup_key."""
    managed_prices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Active prices of each managed product, by product id."""
    stripe_account: str | None = None
    """The connected account (Connect, ``acct_...``) it was read from; None: the platform."""

    def product_for(self, key: str, product_id: str | None) -> dict[str, Any] | None:
        """The Stripe product a catalog entry describes: by its file id, else by the tag."""
        if product_id is not None:
            return self.products.get(product_id)
        tagged = [p for p in self.products.values() if _tag(p) == key]
        # An active one wins over an archived twin (e.g. archived by an earlier --archive).
        tagged.sort(key=lambda p: (not p.get("active"), p.get("created", 0)))
        return tagged[0] if tagged else None

    def managed_products(self) -> list[dict[str, Any]]:
        """Products carrying the sync tag."""
        return [p for p in self.products.values() if _tag(p) is not None]


def read_account(
    client: stripe.StripeClient,
    catalog: Catalog | None = None,
    *,
    every_product: bool = False,
    stripe_account: str | None = None,
) -> AccountState:
    """Read what sync needs from the account (list calls only).

    ``every_product`` also lists the prices of products sync does not manage
    (what ``products pull`` describes). ``stripe_account``: a connected account's
    products and prices (Connect, ``acct_...``; each call sends ``Stripe-Account``),
    not the platform's; a plan made from it is applied there.

    Raises:
        ConfigurationError: ``stripe_account`` is not an ``acct_...`` id.
    """
    if stripe_account is not None and not is_account_id(stripe_account):
        raise ConfigurationError(
            f"stripe_account must be a connected account's id (acct_...), not {stripe_account!r}"
        )
    options: RequestOptions = {"stripe_account": stripe_account} if stripe_account else {}
    state = AccountState(stripe_account=stripe_account)
    listing = call_stripe(lambda: client.v1.products.list({"limit": 100}, options))
    for found in listing.auto_paging_iter():
        state.products[found.id] = found.to_dict()

    def active_prices(params: PriceListParams) -> Iterator[stripe.Price]:
        listed: PriceListParams = {**params, "active": True, "limit": 100}
        page = call_stripe(lambda: client.v1.prices.list(listed, options))
        return page.auto_paging_iter()

    lookup_keys = [price.lookup_key for _, price in catalog.prices()] if catalog else []
    for batch in _batches(lookup_keys, _LOOKUP_BATCH):
        for price in active_prices({"lookup_keys": batch}):
            if price.lookup_key is not None:
                state.prices_by_lookup_key[price.lookup_key] = price.to_dict()

    named_ids = {p.id for p in catalog if p.id is not None} if catalog else set()
    for product in state.products.values():
        if not every_product and _tag(product) is None and product["id"] not in named_ids:
            continue
        prices = active_prices({"product": product["id"]})
        state.managed_prices[product["id"]] = [p.to_dict() for p in prices]
    return state


def _tag(obj: dict[str, Any]) -> str | None:
    value = (obj.get("metadata") or {}).get(PRODUCT_TAG)
    return value if isinstance(value, str) and value else None


def _batches(items: Iterable[str], size: int) -> Iterable[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
