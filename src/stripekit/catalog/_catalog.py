"""The products catalog: what the shop sells, declared in a TOML file or in Python.

A products file (``STRIPEKIT_PRODUCTS``) holds one table per product, named by
the product's key, and one ``[[...prices]]`` entry per price; the first price
is the product's default::

    [products.pro]
    name = "Pro"
    description = "For growing teams"
    mode = "subscription"              # "payment" for one-time purchases
    features = ["Unlimited projects", "Priority support"]
    image = "https://shop.example/pro.png"
    metadata = { tier = "2" }

    [[products.pro.prices]]
    key = "monthly"                    # what a checkout form names; defaults to lookup_key
    lookup_key = "pro_monthly"         # unique in the catalog; how Stripe finds the price
    amount = 1500                      # minor units: 1500 usd is $15.00, 1500 jpy is ¥1,500
    currency = "usd"
    interval = "month"                 # day, week, month or year; subscriptions only
    trial_days = 14
    tax_behavior = "exclusive"

    [[products.pro.prices]]
    key = "yearly"
    lookup_key = "pro_yearly"
    amount = 15000
    currency = "usd"
    interval = "year"
    id_env = "PRO_YEARLY_PRICE_ID"     # or id = "price_..."; else found by lookup_key

    [products.credits]
    name = "100 credits"
    mode = "payment"
    max_quantity = 20                  # a buyer may take 1 to 20 packs

    [[products.credits.prices]]
    lookup_key = "credits_100"
    amount = 900
    currency = "eur"

Every mistake fails at load with a CatalogError naming the file, the product
and the field, e.g. ``products.toml, product 'pro', field 'prices[0].interval':
a subscription price needs an interval (month, year, week or day)``.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stripekit._errors import CatalogError, UnknownPriceError, UnknownProductError

from ._explain import catalog_error
from ._models import Price, Product, metadata_problem, validating

__all__ = ["Catalog", "Price", "Product", "load_catalog", "metadata_problem"]


class Catalog:
    """The products a shop sells, by key.

    Example:
        >>> catalog = Catalog.from_products([Product(key="book", name="Book", mode="payment",
        ...     prices=[Price(lookup_key="book_eur", amount=1900, currency="eur")])])
        >>> product, price = catalog.price("book")
        >>> price.display_amount
        '€19.00'
    """

    def __init__(self, products: Iterable[Product], *, file: str | None = None) -> None:
        self.file = file
        self._products: dict[str, Product] = {}
        owner_of_lookup_key: dict[str, tuple[str, int]] = {}
        for product in products:
            if not isinstance(product, Product):
                raise TypeError(f"a Catalog holds Product objects, got {type(product).__name__}")
            if product.key in self._products:
                raise CatalogError(
                    "two products have this key; give each its own",
                    file=file,
                    product=product.key,
                    field="key",
                )
            for i, price in enumerate(product.prices):
                owner = owner_of_lookup_key.get(price.lookup_key)
                if owner is not None:
                    where = (
                        f"prices[{owner[1]}] of this product"
                        if owner[0] == product.key
                        else f"product {owner[0]!r} (prices[{owner[1]}])"
                    )
                    raise CatalogError(
                        f"lookup_key {price.lookup_key!r} is already used by {where}; "
                        "lookup keys must be unique across the catalog",
                        file=file,
                        product=product.key,
                        field=f"prices[{i}].lookup_key",
                    )
                owner_of_lookup_key[price.lookup_key] = (product.key, i)
            self._products[product.key] = product
        if not self._products:
            raise CatalogError(
                "the catalog has no products: add a [products.<key>] table with a name, "
                "a mode and at least one [[products.<key>.prices]] entry",
                file=file,
            )

    @classmethod
    def from_products(cls, products: Iterable[Product]) -> Catalog:
        """A catalog built in Python (no file)."""
        return cls(products)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Catalog:
        """Read a products TOML file; a mistake raises CatalogError naming file, product, field."""
        file = os.fspath(path)
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            raise CatalogError(
                f"products file not found at {Path(path).absolute()}: create it, or point "
                "STRIPEKIT_PRODUCTS at it",
                file=file,
            ) from None
        except OSError as exc:
            raise CatalogError(
                f"cannot read the products file ({exc.strerror}); STRIPEKIT_PRODUCTS must "
                "name a readable TOML file",
                file=file,
            ) from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CatalogError(
                f"the file is not UTF-8 text (bad byte at offset {exc.start})", file=file
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(_toml_message(exc), file=file) from None
        return cls(_products_from_toml(data, file), file=file)

    def get(self, key: str) -> Product:
        """The product with this key; UnknownProductError (a LookupError) if there is none."""
        product = self._products.get(key)
        if product is None:
            raise UnknownProductError(key, list(self._products))
        return product

    def price(self, product_key: str, price_key: str | None = None) -> tuple[Product, Price]:
        """The product and one of its prices, by the price's key or lookup_key (default: first)."""
        product = self.get(product_key)
        if price_key is None:
            return product, product.default_price
        for price in product.prices:
            if price.key == price_key:
                return product, price
        for price in product.prices:
            if price.lookup_key == price_key:
                return product, price
        raise UnknownPriceError(product.key, price_key, [p.key for p in product.prices])

    def prices(self) -> Iterator[tuple[Product, Price]]:
        """Every (product, price) pair, in file order."""
        for product in self._products.values():
            for price in product.prices:
                yield product, price

    def keys(self) -> list[str]:
        """The product keys, in file order."""
        return list(self._products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products.values())

    def __len__(self) -> int:
        return len(self._products)

    def __contains__(self, key: object) -> bool:
        return key in self._products

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Catalog):
            return NotImplemented
        return self._products == other._products

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        source = f" file={self.file!r}" if self.file else ""
        return f"<Catalog products={self.keys()!r}{source}>"


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Read a products TOML file into a Catalog (see ``Catalog.load``)."""
    return Catalog.load(path)


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    # tomllib (3.11) only puts the position in the message: "... (at line 3, column 7)".
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)$", text)
    if match is None:
        return f"invalid TOML: {text}"
    reason = text[: match.start()].rstrip()
    return f"invalid TOML at line {match[1]}, column {match[2]}: {reason}"


def _products_from_toml(data: dict[str, Any], file: str) -> list[Product]:
    for name in data:
        if name != "products":
            hint = difflib.get_close_matches(name, ["products"], n=1)
            tip = f"did you mean {hint[0]!r}? " if hint else ""
            raise CatalogError(
                f"unknown top-level key {name!r}; {tip}products go in [products.<key>] tables",
                file=file,
                field=name,
            )
    tables = data.get("products", {})
    if not isinstance(tables, dict):
        raise CatalogError(
            "'products' must be a table of products: write [products.<key>] sections",
            file=file,
            field="products",
        )
    products = []
    for key, table in tables.items():
        if not isinstance(table, dict):
            raise CatalogError(
                f"must be a table: write a [products.{key}] section with name, mode and prices",
                file=file,
                product=key,
            )
        if "key" in table:
            raise CatalogError(
                f"the product key comes from the table name ([products.{key}]); remove 'key'",
                file=file,
                product=key,
                field="key",
            )
        token = validating.set(True)
        try:
            products.append(Product.model_validate({"key": key, **table}))
        except ValidationError as exc:
            raise catalog_error(exc, Product, file=file, product=key) from None
        finally:
            validating.reset(token)
    return products
