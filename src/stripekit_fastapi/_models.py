"""Request and response models: what the routes document in FastAPI's OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "CheckoutBody",
    "CheckoutSessionOut",
    "ConfigOut",
    "ErrorOut",
    "PortalOut",
    "PriceOut",
    "ProductOut",
    "WebhookOut",
]


class CheckoutBody(BaseModel):
    """What a buyer chooses. Amounts and prices come from the catalog, never from here."""

    product: str = Field(description="The product's key in the catalog.", examples=["pro"])
    price: str | None = Field(None, description="A price key of the product; default: its first.")
    quantity: int = Field(1, ge=1, description="Within the product's min/max quantity.")


class CheckoutSessionOut(BaseModel):
    """The Checkout Session created: send the browser to ``url``."""

    id: str = Field(examples=["cs_test_a1b2c3"])
    url: str


class PortalOut(BaseModel):
    """The billing portal session's URL."""

    url: str


class PriceOut(BaseModel):
    """One price of a product, for display."""

    key: str
    amount: str = Field(examples=["$15.00"])
    interval: str | None
    interval_count: int
    trial_days: int | None


class ProductOut(BaseModel):
    """One product of the catalog, for display."""

    key: str
    name: str
    description: str | None
    mode: str = Field(examples=["subscription"])
    image: str | None
    features: list[str]
    prices: list[PriceOut]
    max_quantity: int


class ConfigOut(BaseModel):
    """What a browser may know."""

    publishable_key: str | None
    mode: str | None


class ErrorOut(BaseModel):
    """An error a client can show."""

    error: str


class WebhookOut(BaseModel):
    """The webhook route's answer to Stripe."""

    status: str | None = Field(None, examples=["processed"])
    event: str | None = None
    error: str | None = None
