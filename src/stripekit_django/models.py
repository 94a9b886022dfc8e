"""The app's tables: the event log (one row per Stripe event received) and the billing mirror.

The mirror's models are one per kind of Stripe object the billing state keeps
(``stripekit.billing._store.Kind``), each with the columns its queries filter
on (``COLUMNS``) and the rest of the object as JSON, plus the credits ledger
and its balances. Only ``DjangoBillingStore`` (``billing.py``) writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models

from stripekit import EventStatus
from stripekit.billing._store import Kind

__all__ = [
    "MODELS",
    "BillingCharge",
    "BillingCustomer",
    "BillingDispute",
    "BillingInvoice",
    "BillingPurchase",
    "BillingRefund",
    "BillingSubscription",
    "CreditBalance",
    "CreditLedgerEntry",
    "MirroredObject",
    "WebhookEvent",
]


class WebhookEvent(models.Model):
    """A verified Stripe event, recorded before it was acknowledged.

    The primary key is Stripe's event id: the database refuses a second row for
    the same event, however many workers receive it at once.
    """

    id: models.CharField[str, str] = models.CharField(primary_key=True, max_length=255)
    type: models.CharField[str, str] = models.CharField(max_length=255, db_index=True)
    livemode: models.BooleanField[bool, bool] = models.BooleanField()
    account: models.CharField[str | None, str | None] = models.CharField(
        max_length=255, null=True, blank=True
    )
    created: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    received_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(db_index=True)
    payload: models.BinaryField[bytes, bytes] = models.BinaryField(
        help_text="The body exactly as received."
    )
    status: models.CharField[str, str] = models.CharField(
        max_length=16, choices=[(s.value, s.value) for s in EventStatus], db_index=True
    )
    attempts: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(default=0)
    last_error: models.TextField[str | None, str | None] = models.TextField(null=True, blank=True)
    processed_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    token: models.CharField[str | None, str | None] = models.CharField(
        max_length=64, null=True, blank=True, editable=False
    )
    lease_until: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    holder: models.CharField[str | None, str | None] = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        help_text="The process holding the claim: one that died is taken over at once.",
    )

    class Meta:
        db_table = "stripekit_webhook_event"
        ordering = ("-received_at", "-id")
        verbose_name = "webhook event"

    def __str__(self) -> str:
        return f"{self.id} ({self.type}, {self.status})"


# -- the billing mirror -------------------------------------------------------------------


def _column(**options: Any) -> models.CharField[str | None, str | None]:
    """A column the mirror's queries filter on: a Stripe id or a status."""
    return models.CharField(max_length=255, null=True, blank=True, db_index=True, **options)


class MirroredObject(models.Model):
    """What every mirrored Stripe object has: its id, the event it was written from, its data.

    ``version`` is the ``created`` of that event: a row is only ever written over
    by a newer event (see ``stripekit.billing._store``).
    """

    id: models.CharField[str, str] = models.CharField(primary_key=True, max_length=255)
    version: models.BigIntegerField[int, int] = models.BigIntegerField(
        help_text="The created time of the event this row was last written from."
    )
    event: models.CharField[str | None, str | None] = models.CharField(
        max_length=255, null=True, blank=True, help_text="The id of that event."
    )
    data: models.JSONField[Any, Any] = models.JSONField(
        default=dict, help_text="The rest of the object, as the billing state keeps it."
    )
    account: models.CharField[str | None, str | None] = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        help_text="The connected account (Connect) it lives in; empty: the platform's own.",
    )

    kind: Kind

    class Meta:
        abstract = True
        ordering = ("-version", "-id")

    def __str__(self) -> str:
        return str(self.id)


class BillingCustomer(MirroredObject):
    """A Stripe customer, and the app user it is linked to (first link wins)."""

    kind = Kind.CUSTOMER
    email: models.CharField[str | None, str | None] = _column()
    deleted: models.BooleanField[bool, bool] = models.BooleanField(default=False)
    user_ref: models.CharField[str | None, str | None] = _column(
        verbose_name="user", help_text="The app's reference for the user it belongs to."
    )
    linked_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_customer"
        verbose_name = "customer"


class BillingSubscription(MirroredObject):
    """A subscription, as its latest event (or a repair) said it is."""

    kind = Kind.SUBSCRIPTION
    customer: models.CharField[str | None, str | None] = _column()
    status: models.CharField[str | None, str | None] = _column()

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_subscription"
        verbose_name = "subscription"


class BillingInvoice(MirroredObject):
    """An invoice: its status, and the subscription it bills."""

    kind = Kind.INVOICE
    customer: models.CharField[str | None, str | None] = _column()
    subscription: models.CharField[str | None, str | None] = _column()
    status: models.CharField[str | None, str | None] = _column()

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_invoice"
        verbose_name = "invoice"


class BillingPurchase(MirroredObject):
    """A Checkout Session; one-time purchases are those in payment mode."""

    kind = Kind.PURCHASE
    customer: models.CharField[str | None, str | None] = _column()
    user_ref: models.CharField[str | None, str | None] = _column(verbose_name="user")
    mode: models.CharField[str | None, str | None] = _column()
    status: models.CharField[str | None, str | None] = _column()
    payment_intent: models.CharField[str | None, str | None] = _column()

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_purchase"
        verbose_name = "purchase"


class BillingCharge(MirroredObject):
    """A charge: what was refunded or disputed of a payment."""

    kind = Kind.CHARGE
    customer: models.CharField[str | None, str | None] = _column()
    payment_intent: models.CharField[str | None, str | None] = _column()

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_charge"
        verbose_name = "charge"


class BillingRefund(MirroredObject):
    """A refund of a charge."""

    kind = Kind.REFUND
    charge: models.CharField[str | None, str | None] = _column()
    payment_intent: models.CharField[str | None, str | None] = _column()
    status: models.CharField[str | None, str | None] = _column()

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_refund"
        verbose_name = "refund"


class BillingDispute(MirroredObject):
    """A dispute of a charge."""

    kind = Kind.DISPUTE
    charge: models.CharField[str | None, str | None] = _column()
    payment_intent: models.CharField[str | None, str | None] = _column()
    status: models.CharField[str | None, str | None] = _column()

    class Meta(MirroredObject.Meta):
        db_table = "stripekit_billing_dispute"
        verbose_name = "dispute"


MODELS: dict[Kind, type[MirroredObject]] = {
    model.kind: model
    for model in (
        BillingCustomer, BillingSubscription, BillingInvoice, BillingPurchase, BillingCharge,
        BillingRefund, BillingDispute,
    )
}  # fmt: skip
"""The model of each kind of mirrored object."""


class CreditLedgerEntry(models.Model):
    """One line of the credits ledger: a grant (positive), a spend or a take-back (negative).

    ``source`` is unique: a grant, or a spend's idempotency key, is written once
    whoever asks, however many workers ask at once.
    """

    owner: models.CharField[str, str] = models.CharField(max_length=255, db_index=True)
    amount: models.BigIntegerField[int, int] = models.BigIntegerField()
    reason: models.TextField[str, str] = models.TextField()
    source: models.CharField[str, str] = models.CharField(max_length=255, unique=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        db_table = "stripekit_billing_credit"
        ordering = ("-id",)
        verbose_name = "credit ledger entry"
        verbose_name_plural = "credit ledger"

    def __str__(self) -> str:
        return f"{self.owner} {self.amount:+d} ({self.source})"


class CreditBalance(models.Model):
    """An owner's credits now (``user:<ref>``, or ``customer:<id>`` until it is linked)."""

    owner: models.CharField[str, str] = models.CharField(primary_key=True, max_length=255)
    balance: models.BigIntegerField[int, int] = models.BigIntegerField()

    class Meta:
        db_table = "stripekit_billing_balance"
        ordering = ("owner",)
        verbose_name = "credit balance"

    def __str__(self) -> str:
        return f"{self.owner}: {self.balance}"
