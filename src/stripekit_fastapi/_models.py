"""Request and response models: what the routes document in FastAPI's OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACTION_BODIES",
    "AccountOut",
    "CheckoutBody",
    "CheckoutSessionOut",
    "ClientSecretOut",
    "ConfigOut",
    "ErrorOut",
    "HealthOut",
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


class ClientSecretOut(BaseModel):
    """An embedded Checkout Session or a PaymentIntent: Stripe.js mounts it with its secret."""

    id: str = Field(examples=["pi_3Ab12", "cs_test_a1b2c3"])
    client_secret: str = Field(examples=["pi_3Ab12_secret_x1y2"])


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


class HealthOut(BaseModel):
    """The health route's answer: counts and ages only. Every status that is not final
    has its count and ``oldest_<status>_age_s`` (seconds since the oldest of them was
    received, null when there is none), including statuses added later."""

    model_config = ConfigDict(extra="allow")

    store: str = Field(examples=["ok"], description="ok, or unavailable (503)")
    processing: int | None = Field(None, examples=[0])
    failed: int | None = Field(None, examples=[2])
    oldest_processing_age_s: float | None = None
    oldest_failed_age_s: float | None = Field(None, examples=[3600.0])


class PlanChoiceOut(BaseModel):
    """A plan a subscription may move to (``plan`` of a change)."""

    target: str = Field(examples=["team"])
    name: str
    amount: str = Field(examples=["$30.00 / month"])


class AccountSubscriptionOut(BaseModel):
    """A subscription on the account page."""

    id: str
    plan: str
    amount: str | None
    status: str
    status_label: str
    renews_on: str | None
    ends_on: str | None
    trial_ends: str | None
    cancel_scheduled: bool
    can_cancel: bool
    can_resume: bool
    open_invoice: str | None
    choices: list[PlanChoiceOut]


class AccountPurchaseOut(BaseModel):
    """A one-time purchase on the account page."""

    id: str
    description: str
    total: str
    refunded: str | None
    fully_refunded: bool
    status: str
    bought_on: str | None
    dispute: str | None


class AccountCreditOut(BaseModel):
    """A line of the credits ledger."""

    amount: int
    reason: str
    on: str


class AccountOut(BaseModel):
    """The signed-in buyer's billing, as ``GET /account`` answers JSON clients."""

    user: str
    customer: str | None
    subscriptions: list[AccountSubscriptionOut]
    purchases: list[AccountPurchaseOut]
    credits: int
    credit_entries: list[AccountCreditOut]
    shows_credits: bool


class _SubscriptionBody(BaseModel):
    subscription: str = Field(description="One of the buyer's subscriptions (sub_...).")


class CancelBody(_SubscriptionBody):
    """Cancel one of the buyer's subscriptions."""

    at_period_end: bool = Field(True, description="False: end it now.")


class ResumeBody(_SubscriptionBody):
    """Undo the scheduled cancel of one of the buyer's subscriptions."""


class PreviewChangeBody(_SubscriptionBody):
    """What moving to another plan would bill."""

    plan: str = Field(description="A product key of the catalog, or product:price.")


class ChangePlanBody(PreviewChangeBody):
    """Move to another plan; the preview's quote bills exactly what it showed."""

    quote: str | None = Field(None, description="The quote a preview gave (30 minutes).")


class RetryBody(BaseModel):
    """Pay the open invoice of a failed renewal."""

    invoice: str = Field(description="The open invoice (in_...).")


ACTION_BODIES: dict[str, type[BaseModel]] = {
    "cancel": CancelBody,
    "resume": ResumeBody,
    "change-plan": ChangePlanBody,
    "preview-change": PreviewChangeBody,
    "retry": RetryBody,
}
"""The body each ``POST /account/<action>`` takes (JSON or a form)."""
