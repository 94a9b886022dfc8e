"""Which catalog product a Stripe price is: the key the billing state files things under.

A price the kit synced carries its product's key in its metadata
(``stripekit_product``); a catalog price is also known by its ``lookup_key``
and, when the file gives it, its id. An invoice line names only the price's
id: ``product_key`` then looks in what it has learnt from price objects seen
in events, and the caller may fetch the price from Stripe (``fetch_price``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stripekit.catalog._sync_state import PRODUCT_TAG

if TYPE_CHECKING:
    from stripekit.catalog._catalog import Catalog

__all__ = ["ProductKeys"]


class ProductKeys:
    """Price (object or id) → the catalog's product key, or None for a price outside it."""

    def __init__(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._keys = set(catalog.keys()) if catalog is not None else set()
        self._by_lookup: dict[str, str] = {}
        self._by_id: dict[str, str] = {}
        if catalog is not None:
            for product, price in catalog.prices():
                self._by_lookup[price.lookup_key] = product.key
                if price.id:
                    self._by_id[price.id] = product.key
        self._learnt: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def of_price(self, price: Mapping[str, Any] | str | None) -> str | None:
        """The product key of a price object (learnt for its id) or of a known price id."""
        if isinstance(price, str):
            return self.of_price_id(price)
        if not isinstance(price, Mapping):
            return None
        key = _tagged(price)
        if key is None:
            lookup = price.get("lookup_key")
            key = self._by_lookup.get(lookup) if isinstance(lookup, str) else None
        price_id = price.get("id")
        if key is None and isinstance(price_id, str):
            key = self._by_id.get(price_id)
        if key is not None and key not in self._keys:
            key = None  # tagged by another catalog, or a product since removed
        if isinstance(price_id, str):
            with self._lock:
                self._learnt[price_id] = key
        return key

    def of_price_id(self, price_id: str) -> str | None:
        """The product key of a price id, if the catalog or a price seen before tells it."""
        if price_id in self._by_id:
            return self._by_id[price_id]
        return self._learnt.get(price_id)

    def knows(self, price_id: str) -> bool:
        """Whether ``of_price_id`` can answer without asking Stripe."""
        return price_id in self._by_id or price_id in self._learnt

    def credits(self, product_key: str | None) -> int:
        """The credits one unit of this product grants (0 if none, or not in the catalog)."""
        if product_key is None or self._catalog is None or product_key not in self._keys:
            return 0
        return self._catalog.get(product_key).credits or 0

    def product(self, product_key: str | None) -> str | None:
        """The key itself if the catalog has that product, else None."""
        return product_key if product_key is not None and product_key in self._keys else None

    def name(self, product_key: str) -> str:
        """The catalog's name of a product (its key when the catalog has no such product)."""
        if self._catalog is None or product_key not in self._keys:
            return product_key
        return self._catalog.get(product_key).name

    def features(self, product_key: str) -> tuple[str, ...]:
        """The catalog's features of a product."""
        if self._catalog is None or product_key not in self._keys:
            return ()
        return tuple(self._catalog.get(product_key).features)


def _tagged(price: Mapping[str, Any]) -> str | None:
    metadata = price.get("metadata")
    if isinstance(metadata, Mapping):
        key = metadata.get(PRODUCT_TAG)
        if isinstance(key, str):
            return key
    return None
