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
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from ._currencies import currency_problem, format_amount
from ._errors import CatalogError, UnknownPriceError, UnknownProductError

__all__ = ["Catalog", "Price", "Product", "load_catalog", "metadata_problem"]

Interval = Literal["day", "week", "month", "year"]

# Stripe bills at most once a year apart: interval_count * interval <= 1 year.
_MAX_INTERVAL_COUNT: dict[str, int] = {"day": 365, "week": 52, "month": 12, "year": 1}
_MAX_TRIAL_DAYS = 730
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Stripe's metadata limits (https://docs.stripe.com/api/metadata).
METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_VALUE_LENGTH = 500


def metadata_problem(metadata: Mapping[Any, Any]) -> str | None:
    """Why Stripe would refuse this metadata, or ``None`` when it is fine."""
    if len(metadata) > METADATA_MAX_KEYS:
        return f"has {len(metadata)} keys; Stripe allows at most {METADATA_MAX_KEYS}"
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            return f"key {key!r} must be a non-empty string"
        if len(key) > METADATA_MAX_KEY_LENGTH:
            return (
                f"key {key[:20]!r}... is {len(key)} characters long; "
                f"Stripe allows at most {METADATA_MAX_KEY_LENGTH}"
            )
        if "[" in key or "]" in key:
            return f"key {key!r} contains a square bracket, which Stripe does not allow"
        if not isinstance(value, str):
            return f"value of {key!r} must be a string, got {type(value).__name__}"
        if len(value) > METADATA_MAX_VALUE_LENGTH:
            return (
                f"value of {key!r} is {len(value)} characters long; "
                f"Stripe allows at most {METADATA_MAX_VALUE_LENGTH}"
            )
    return None


# Set while a model validates, so nested models leave the error to the outermost one.
_validating: ContextVar[bool] = ContextVar("stripekit_catalog_validating", default=False)


class _FieldProblem(ValueError):
    """A cross-field rule broken at ``field`` (relative to the model that raised it)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        # pydantic calls a custom __init__ for nested models too: only the outermost
        # call turns pydantic's report into the CatalogError a products file would get.
        if _validating.get():
            super().__init__(**data)
            return
        token = _validating.set(True)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            key = data.get("key") if isinstance(self, Product) else None
            raise _catalog_error(
                exc, file=None, product=key if isinstance(key, str) else None
            ) from None
        finally:
            _validating.reset(token)

    @field_validator("metadata", check_fields=False)
    @classmethod
    def _check_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        problem = metadata_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class Price(_Model):
    """One way to pay for a product: an amount, a currency and, for subscriptions, an interval.

    Amounts are in the currency's minor unit (cents), as Stripe counts them.
    The Stripe id comes from ``id``, else from the environment variable named
    by ``id_env``, else Stripe is asked for the price with this ``lookup_key``.

    Example:
        >>> p = Price(lookup_key="pro_monthly", amount=1500, currency="USD", interval="month")
        >>> p.key, p.currency, p.display_amount
        ('pro_monthly', 'usd', '$15.00')
    """

    # The default only satisfies type checkers: a missing key is set to the lookup_key.
    key: Annotated[str, Field(min_length=1, max_length=200)] = ""
    lookup_key: Annotated[str, Field(min_length=1, max_length=200)]
    amount: Annotated[int, Field(ge=0, strict=True)]
    currency: str
    interval: Interval | None = None
    interval_count: Annotated[int, Field(ge=1, strict=True)] = 1
    trial_days: Annotated[int, Field(ge=1, le=_MAX_TRIAL_DAYS, strict=True)] | None = None
    tax_behavior: Literal["inclusive", "exclusive", "unspecified"] | None = None
    id: str | None = None
    id_env: str | None = None
    nickname: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _key_defaults_to_lookup_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and "key" not in data and isinstance(data.get("lookup_key"), str):
            return {"key": data["lookup_key"], **data}
        return data

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        problem = currency_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value.lower()

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("price_"):
            raise ValueError(
                f"{value!r} is not a Stripe price id: it starts with 'price_' "
                "(a product id 'prod_...' is not a price)"
            )
        return value

    @field_validator("id_env")
    @classmethod
    def _check_id_env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _check_recurrence(self) -> Price:
        if self.id is not None and self.id_env is not None:
            raise _FieldProblem("id_env", "give either id or id_env, not both")
        if self.interval is None:
            if self.interval_count != 1:
                raise _FieldProblem("interval_count", "interval_count needs an interval")
        elif self.interval_count > _MAX_INTERVAL_COUNT[self.interval]:
            most = _MAX_INTERVAL_COUNT[self.interval]
            raise _FieldProblem(
                "interval_count",
                f"Stripe bills at least once a year: at most {most} {self.interval}"
                f"{'s' if most > 1 else ''} apart, got {self.interval_count}",
            )
        return self

    @property
    def recurring(self) -> bool:
        """Whether this price bills again every interval."""
        return self.interval is not None

    @property
    def display_amount(self) -> str:
        """The amount as a pricing page shows it: ``$15.00``, ``¥1,500``."""
        return format_amount(self.amount, self.currency)

    @classmethod
    def from_stripe(
        cls, obj: Mapping[str, Any] | Any, *, key: str | None = None, lookup_key: str | None = None
    ) -> Price:
        """Describe a Stripe price object (a dict or a ``stripe.Price``) as a catalog Price.

        Only prices with a fixed ``unit_amount`` can be described: tiered and
        custom-amount prices have no single amount.
        """
        data: Mapping[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else obj
        if data.get("object") != "price":
            raise TypeError(f"not a Stripe price object: {data.get('object')!r}")
        if data.get("unit_amount") is None:
            raise CatalogError(
                f"Stripe price {data.get('id')!r} has no fixed unit_amount (tiered or "
                "customer-chosen): the catalog describes fixed prices only",
                field="amount",
            )
        found = lookup_key or data.get("lookup_key")
        if not found:
            raise CatalogError(
                f"Stripe price {data.get('id')!r} has no lookup_key: pass lookup_key=",
                field="lookup_key",
            )
        recurring = data.get("recurring") or {}
        return cls(
            key=key or found,
            lookup_key=found,
            amount=data["unit_amount"],
            currency=data["currency"],
            interval=recurring.get("interval"),
            interval_count=recurring.get("interval_count") or 1,
            trial_days=recurring.get("trial_period_days"),
            tax_behavior=data.get("tax_behavior"),
            id=data.get("id"),
            nickname=data.get("nickname"),
            metadata=dict(data.get("metadata") or {}),
        )

    def differences(self, obj: Mapping[str, Any] | Any) -> list[str]:
        """What differs between this price and a Stripe price object, in words; ``[]`` if none.

        Compares what the buyer pays: amount, currency, interval and interval count.
        """
        data: Mapping[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else obj
        recurring = data.get("recurring") or {}
        theirs = {
            "amount": data.get("unit_amount"),
            "currency": data.get("currency"),
            "interval": recurring.get("interval"),
            "interval_count": recurring.get("interval_count") or 1,
        }
        ours = {
            "amount": self.amount,
            "currency": self.currency,
            "interval": self.interval,
            "interval_count": self.interval_count,
        }
        return [
            f"{name}: catalog {ours[name]!r}, Stripe {theirs[name]!r}"
            for name in ours
            if ours[name] != theirs[name]
        ]


class Product(_Model):
    """Something the shop sells, with one or more prices (the first is the default).

    Example:
        >>> pro = Product(key="pro", name="Pro", mode="subscription", prices=[
        ...     Price(key="monthly", lookup_key="pro_monthly", amount=1500,
        ...           currency="usd", interval="month")])
        >>> pro.default_price.key
        'monthly'
    """

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    name: Annotated[str, Field(min_length=1)]
    description: Annotated[str, Field(min_length=1)] | None = None
    mode: Literal["payment", "subscription"]
    prices: Annotated[list[Price], Field(min_length=1)]
    image: str | None = None
    features: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=80)]], Field(max_length=15)
    ] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)
    min_quantity: Annotated[int, Field(ge=1, strict=True)] = 1
    max_quantity: Annotated[int, Field(ge=1, strict=True)] = 1

    @field_validator("image")
    @classmethod
    def _check_image(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_prices(self) -> Product:
        if self.min_quantity > self.max_quantity:
            raise _FieldProblem(
                "min_quantity",
                f"min_quantity ({self.min_quantity}) is more than max_quantity "
                f"({self.max_quantity})",
            )
        first_with_key: dict[str, int] = {}
        for i, price in enumerate(self.prices):
            if self.mode == "subscription" and price.interval is None:
                raise _FieldProblem(
                    f"prices[{i}].interval",
                    "a subscription price needs an interval (month, year, week or day)",
                )
            if self.mode == "payment" and price.interval is not None:
                raise _FieldProblem(
                    f"prices[{i}].interval",
                    'a one-time price (mode = "payment") has no interval: remove it, '
                    'or make the product mode = "subscription"',
                )
            if self.mode == "payment" and price.trial_days is not None:
                raise _FieldProblem(
                    f"prices[{i}].trial_days",
                    'trial_days is for subscriptions; a one-time price (mode = "payment") '
                    "cannot have a trial",
                )
            if price.key in first_with_key:
                raise _FieldProblem(
                    f"prices[{i}].key",
                    f"price key {price.key!r} is already used by "
                    f"prices[{first_with_key[price.key]}]; give each price its own key",
                )
            first_with_key[price.key] = i
        return self

    @property
    def default_price(self) -> Price:
        """The first price: the one a checkout uses when none is named."""
        return self.prices[0]


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
        token = _validating.set(True)
        try:
            products.append(Product.model_validate({"key": key, **table}))
        except ValidationError as exc:
            raise _catalog_error(exc, file=file, product=key) from None
        finally:
            _validating.reset(token)
    return products


# -- pydantic's report → one CatalogError -------------------------------------------------


def _catalog_error(exc: ValidationError, *, file: str | None, product: str | None) -> CatalogError:
    errors = exc.errors(include_url=False)
    errors = [e for e in errors if not _shadowed(e, errors)] or errors
    # A misspelt field also makes the real one "missing": the typo is the news.
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = [part for part in error["loc"] if part not in ("[key]",)]
    model = exc.title
    message = _explain(error, model, loc)
    problem = (error.get("ctx") or {}).get("error")
    if isinstance(problem, _FieldProblem):
        loc = [*loc, *_split_field(problem.field)]
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return CatalogError(message, file=file, product=product, field=_format_loc(loc) or None)


def _shadowed(error: ErrorDetails, errors: list[ErrorDetails]) -> bool:
    """Whether a "missing" error only repeats a typo: ``nmae`` leaves ``name`` missing."""
    loc = error["loc"]
    if error["type"] != "missing" or not loc:
        return False
    name = str(loc[-1])
    for other in errors:
        if other["loc"][:-1] != loc[:-1]:
            continue
        other_name = str(other["loc"][-1])
        if other["type"] == "extra_forbidden" and difflib.get_close_matches(other_name, [name]):
            return True
    return False


def _split_field(field: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return parts


def _format_loc(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _model_at(root: str, loc: list[str | int]) -> type[BaseModel]:
    model: type[BaseModel] = Product if root == "Product" else Price
    if model is Product and "prices" in loc:
        model = Price
    return model


def _explain(error: ErrorDetails, root: str, loc: list[str | int]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        what = {
            "mode": ': "payment" (one-time) or "subscription"',
            "prices": ": add a [[products.<key>.prices]] entry",
        }.get(name, "")
        return f"{name} is required{what}"
    if kind == "extra_forbidden":
        fields = sorted(_model_at(root, loc[:-1]).model_fields)
        hint = difflib.get_close_matches(name, fields, n=1)
        tip = f"did you mean {hint[0]!r}? " if hint else ""
        return f"unknown field {name!r}; {tip}allowed: {', '.join(fields)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table, got {value!r}"
    if kind == "list_type":
        return f"must be a list, got {value!r}"
    if kind == "string_type":
        return f"must be a string (in quotes), got {value!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        unit = " of minor units (1500 usd is $15.00)" if name == "amount" else ""
        return f"must be a whole number{unit}, got {value!r}"
    if kind == "literal_error":
        hint = difflib.get_close_matches(str(value), re.findall(r"'([^']*)'", ctx["expected"]), 1)
        tip = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"must be {ctx['expected']}, got {value!r}{tip}"
    if kind == "greater_than_equal":
        if name == "amount":
            return f"must be 0 or more minor units, got {value!r}"
        return f"must be {ctx['ge']} or more, got {value!r}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}, got {value!r}"
    if kind == "string_pattern_mismatch" and name == "key":
        return (
            f"product key {value!r} must be lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters long"
    if kind == "too_short" and name == "prices":
        return "a product needs at least one price: add a [[products.<key>.prices]] entry"
    if kind == "too_long":
        return f"has too many entries; Stripe allows at most {ctx['max_length']}"
    return error["msg"].removeprefix("Value error, ")
