"""Products pull: write a products file from what a Stripe account already sells.

An app that adopts stripekit keeps its products: each active product with at
least one active fixed price becomes a catalog entry naming the product's
``id`` (so sync finds it without a tag), and each price keeps its lookup key
(a price without one gets a generated key, which the next sync sets on it).
Products sync manages (tagged) keep their key. Pulling and then syncing
changes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from stripekit._errors import ConfigurationError

from ._catalog import Catalog
from ._models import Price, Product
from ._sync_state import PRODUCT_TAG

if TYPE_CHECKING:
    from ._sync_state import AccountState

__all__ = ["PulledCatalog", "catalog_from_account", "catalog_to_toml"]


class PulledCatalog:
    """A catalog read from an account, and what could not be described in it."""

    def __init__(self, catalog: Catalog, skipped: list[str]) -> None:
        self.catalog = catalog
        self.skipped = skipped
        """One line per product or price left out, saying why."""


def catalog_from_account(state: AccountState) -> PulledCatalog:
    """Describe the account's active products and fixed prices as a Catalog.

    ``state.managed_prices`` must hold the active prices of every product
    (``read_account(client, catalog, every_product=True)``).
    """
    products: list[Product] = []
    skipped: list[str] = []
    used_keys: set[str] = set()
    active = [p for p in state.products.values() if p.get("active")]
    active.sort(key=lambda p: p.get("created", 0))
    for obj in active:
        key = _product_key(obj, used_keys)
        prices, problems = _prices(obj, key, state.managed_prices.get(obj["id"], []))
        skipped.extend(problems)
        if not prices:
            skipped.append(f"product {obj['id']} ({obj.get('name')}): no active fixed price")
            continue
        modes = {"subscription" if p.interval else "payment" for p in prices}
        if len(modes) > 1:
            # A catalog product is one-time or recurring; keep the recurring prices.
            dropped = [p.lookup_key for p in prices if p.interval is None]
            skipped.append(
                f"product {obj['id']}: one-time prices {dropped} left out (the product also "
                "has recurring ones; give them a product of their own)"
            )
            prices = [p for p in prices if p.interval is not None]
        used_keys.add(key)
        products.append(
            Product(
                key=key,
                id=obj["id"],
                name=obj["name"],
                description=obj.get("description") or None,
                mode="subscription" if prices[0].interval else "payment",
                prices=prices,
                image=(obj.get("images") or [None])[0],
                features=[f["name"] for f in obj.get("marketing_features") or [] if f.get("name")],
                metadata={k: v for k, v in (obj.get("metadata") or {}).items() if k != PRODUCT_TAG},
            )
        )
    if not products:
        raise ConfigurationError(
            "the Stripe account has no active product with a fixed price: nothing to pull "
            "(write products.toml by hand; see the catalog docs)"
        )
    return PulledCatalog(Catalog(products), skipped)


def catalog_to_toml(catalog: Catalog, *, header: str = "") -> str:
    """The catalog as a products file (the format ``Catalog.load`` reads)."""
    import tomli_w

    tables: dict[str, Any] = {}
    for product in catalog:
        table = product.model_dump(exclude_defaults=True, exclude={"key", "prices"})
        table["mode"] = product.mode
        table["prices"] = [
            price.model_dump(
                exclude_defaults=True, exclude={"key"} if price.key == price.lookup_key else set()
            )
            for price in product.prices
        ]
        tables[product.key] = table
    text = tomli_w.dumps({"products": tables})
    prefix = "".join(f"# {line}\n" for line in header.splitlines())
    return prefix + ("\n" if prefix else "") + text


def _product_key(obj: dict[str, Any], used: set[str]) -> str:
    tagged = (obj.get("metadata") or {}).get(PRODUCT_TAG)
    base = tagged or re.sub(r"[^a-z0-9]+", "-", str(obj.get("name", "")).lower()).strip("-")
    base = (base or "product")[:60]
    key, n = base, 2
    while key in used:
        key, n = f"{base}-{n}", n + 1
    return key


def _prices(
    product: dict[str, Any], key: str, prices: list[dict[str, Any]]
) -> tuple[list[Price], list[str]]:
    found: list[Price] = []
    problems: list[str] = []
    for obj in sorted(prices, key=lambda p: p.get("created", 0)):
        if obj.get("unit_amount") is None or obj.get("billing_scheme") == "tiered":
            problems.append(f"price {obj['id']} of {product['id']}: not a fixed amount")
            continue
        recurring = obj.get("recurring") or {}
        tidy = {
            # The sync tag is Stripe-side bookkeeping; "unspecified" is Stripe's default.
            "metadata": {k: v for k, v in (obj.get("metadata") or {}).items() if k != PRODUCT_TAG},
            "tax_behavior": None
            if obj.get("tax_behavior") == "unspecified"
            else obj.get("tax_behavior"),
        }
        if obj.get("lookup_key"):
            # Found by its lookup key: an id in the file would go stale when sync replaces it.
            found.append(Price.from_stripe(obj).model_copy(update={**tidy, "id": None}))
            continue
        parts = (key, recurring.get("interval") or "once", obj["currency"], obj["id"][-6:])
        generated = "_".join(str(part) for part in parts).lower()
        # The id lets sync find the price and set this key on it.
        found.append(Price.from_stripe(obj, lookup_key=generated).model_copy(update=tidy))
        problems.append(
            f"price {obj['id']} of {product['id']} has no lookup key: named it {generated!r} "
            "(the next sync sets it in Stripe; then remove its id from the file)"
        )
    return found, problems
