"""What the billing queries answer with: subscriptions, purchases, credit entries.

Plain frozen dataclasses built from the mirror's rows; times are timezone-aware
UTC datetimes, amounts are in the currency's minor unit (cents), as Stripe
counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "CreditEntry",
    "Entitlements",
    "Purchase",
    "PurchaseLine",
    "Subscription",
    "SubscriptionItem",
]


@dataclass(frozen=True, slots=True)
class SubscriptionItem:
    """One price a subscription bills, and how many of it."""

    price: str
    """The Stripe price id (``price_...``)."""
    product: str | None
    """The catalog's product key, when the price is one of the catalog's."""
    quantity: int
    unit_amount: int | None = None
    """What one unit costs per interval, in minor units (None: not known, or metered)."""
    currency: str | None = None
    interval: str | None = None
    """``day``, ``week``, ``month`` or ``year``."""
    interval_count: int = 1
    lookup_key: str | None = None
    """The price's lookup key: which of the catalog's prices it is."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as Stripe last said it is.

    Example:
        >>> sub = kit.billing.subscriptions("user-42")[0]  # doctest: +SKIP
        >>> sub.status, sub.products  # doctest: +SKIP
        ('active', ('pro',))
    """

    id: str
    customer: str
    user: str | None
    """The app's user it belongs to, once the customer is linked to one."""
    status: str
    """Stripe's status: trialing, active, past_due, canceled, unpaid, incomplete, ..."""
    items: tuple[SubscriptionItem, ...]
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_start: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    cancel_at: datetime | None
    canceled_at: datetime | None
    ended_at: datetime | None
    latest_invoice: str | None
    latest_invoice_status: str | None
    """The status of the latest invoice (paid, open, void...), once its events arrived."""
    livemode: bool = False
    account: str | None = None
    """The connected account (Connect, ``acct_...``) it lives in; None: the platform's own."""

    @property
    def products(self) -> tuple[str, ...]:
        """The catalog product keys it bills (prices outside the catalog are left out)."""
        return tuple(item.product for item in self.items if item.product is not None)


@dataclass(frozen=True, slots=True)
class PurchaseLine:
    """One line of a one-time purchase, as Stripe itemised the checkout."""

    price: str | None
    product: str | None
    """The catalog's product key, when the price is one of the catalog's."""
    description: str
    quantity: int
    amount_subtotal: int
    amount_total: int


@dataclass(frozen=True, slots=True)
class Purchase:
    """A one-time checkout (``mode = "payment"``) and what became of its payment.

    ``status`` is ``paid``, ``pending`` (a delayed payment method is still
    settling) or ``failed`` (it did not settle); a checkout never completed is
    not a purchase. ``refunded`` is how much was given back; ``dispute`` the
    status of the latest dispute, if the payment was disputed.
    """

    id: str
    """The Checkout Session id (``cs_...``)."""
    customer: str | None
    user: str | None
    status: str
    lines: tuple[PurchaseLine, ...]
    currency: str | None
    amount_subtotal: int
    amount_discount: int
    amount_tax: int
    amount_total: int
    payment_intent: str | None
    created: datetime | None
    refunded: int = 0
    dispute: str | None = None
    livemode: bool = False
    account: str | None = None
    """The connected account (Connect, ``acct_...``) it was bought on; None: the platform."""

    @property
    def products(self) -> tuple[str, ...]:
        """The catalog product keys bought."""
        return tuple(line.product for line in self.lines if line.product is not None)

    @property
    def fully_refunded(self) -> bool:
        """Whether all of what was paid was given back."""
        return self.amount_total > 0 and self.refunded >= self.amount_total


@dataclass(frozen=True, slots=True)
class CreditEntry:
    """One line of a user's credits ledger: a grant (positive) or a spend (negative)."""

    amount: int
    reason: str
    source: str
    """What it came from, unique: ``checkout:cs_...:pack``, ``invoice:in_...:pro``,
    ``spend:<idempotency key>``, ``clawback:...``."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Entitlements:
    """What a user may use now: the catalog products they hold, and those products' features."""

    products: frozenset[str] = field(default_factory=frozenset)
    features: frozenset[str] = field(default_factory=frozenset)

    def __contains__(self, item: object) -> bool:
        return item in self.products or item in self.features
