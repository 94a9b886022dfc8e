"""The event log in the project's database: one row per Stripe event received."""

from __future__ import annotations

from datetime import datetime

from django.db import models

from stripekit import EventStatus

__all__ = ["WebhookEvent"]


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
