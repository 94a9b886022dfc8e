"""Products and prices as validated models: what one catalog entry may say.

Stripe's own rules are checked here (metadata limits, intervals at most a year
apart, a trial only on a recurring price), so a mistake fails when the file is
loaded, not when a buyer clicks "buy".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stripekit._errors import CatalogError

from ._currencies import currency_problem, format_amount
from ._explain import FieldProblem as _FieldProblem
from ._explain import catalog_error as _catalog_error

__all__ = ["Price", "Product", "metadata_problem", "validating"]

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
validating: ContextVar[bool] = ContextVar("stripekit_catalogvalidating", default=False)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        # pydantic calls a custom __init__ for nested models too: only the outermost
        # call turns pydantic's report into the CatalogError a products file would get.
        if validating.get():
            super().__init__(**data)
            return
        token = validating.set(True)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            key = data.get("key") if isinstance(self, Product) else None
            raise _catalog_error(
                exc, type(self), file=None, product=key if isinstance(key, str) else None
            ) from None
        finally:
            validating.reset(token)

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
    id: Annotated[str, Field(pattern=r"^prod_[A-Za-z0-9]+$")] | None = None
    """The Stripe product (``prod_...``) this entry describes, for a catalog adopted
    with ``stripekit products pull``; otherwise sync finds its product by key."""
    credits: Annotated[int, Field(ge=1, le=1_000_000_000, strict=True)] | None = None
    """Credits the product grants (the billing state's ledger): per unit bought for a
    one-time product, per paid invoice (and unit) for a subscription."""

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
