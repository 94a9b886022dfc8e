"""The billing state in Django's admin: read-only lists with filters, and links to Stripe.

Every billing model is Stripe's record as the kit mirrored it: nothing here
adds, changes or deletes a row (a wrong row is repaired from Stripe with
``manage.py stripekit_billing sync``). Each list filters by status, by user
(the customer's linked user, or the one a checkout named) and, for
subscriptions, invoices and checkouts, by catalog product; each row links to
its object in Stripe's Dashboard.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.db.models import F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.html import format_html

from stripekit._errors import StripekitError

from .billing_filters import OwnerKindFilter, ProductFilter, UserFilter
from .models import (
    BillingCharge,
    BillingCustomer,
    BillingDispute,
    BillingInvoice,
    BillingPurchase,
    BillingRefund,
    BillingSubscription,
    CreditBalance,
    CreditLedgerEntry,
    MirroredObject,
)

__all__ = ["dashboard_url"]

DASHBOARD = "https://dashboard.stripe.com/"


def dashboard_url(path: str, livemode: bool) -> str:
    """The Dashboard page of ``path`` (``subscriptions/sub_...``), under ``test/`` in test mode.

    Example:
        >>> dashboard_url("subscriptions/sub_1", livemode=False)
        'https://dashboard.stripe.com/test/subscriptions/sub_1'
    """
    return f"{DASHBOARD}{'' if livemode else 'test/'}{path}"


def _dashboard_path(obj: MirroredObject) -> str | None:
    """Where an object is in the Dashboard: payments are found by their payment intent."""
    payment = getattr(obj, "payment_intent", None) or getattr(obj, "charge", None)
    if isinstance(obj, BillingCustomer):
        return f"customers/{obj.id}"
    if isinstance(obj, BillingSubscription):
        return f"subscriptions/{obj.id}"
    if isinstance(obj, BillingInvoice):
        return f"invoices/{obj.id}"
    if isinstance(obj, BillingPurchase):
        return f"payments/{payment}" if payment else f"checkout/sessions/{obj.id}"
    if isinstance(obj, BillingCharge):
        return f"payments/{payment or obj.id}"
    # Refunds and disputes are shown on the payment they belong to.
    return f"payments/{payment}" if payment else None


def _kit_livemode() -> bool:
    """The project's mode, for objects whose data does not say theirs."""
    from .conf import get_kit

    try:
        return bool(get_kit().settings.livemode)
    except StripekitError:
        return False


def _user_of_customer(customer: Any) -> Subquery:
    """The user a customer (an expression naming its id) is linked to."""
    linked = BillingCustomer.objects.filter(id=customer).values("user_ref")[:1]
    return Subquery(linked)


def _products_of(obj: MirroredObject) -> list[str]:
    """The catalog product keys a subscription's items or a checkout's or invoice's lines bill."""
    listed = obj.data.get("items") or obj.data.get("lines") or []
    keys = (line.get("product") for line in listed if isinstance(line, dict))
    return [str(key) for key in keys if key]


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Lists and pages only: nothing is added, changed or deleted by hand."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MirrorAdmin(ReadOnlyAdmin):
    """Read-only: the mirror is written by Stripe's events and repairs, never by hand."""

    columns: tuple[str, ...] = ()
    """The model's own columns, shown after the id."""
    list_per_page = 50
    ordering = ("-version", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(linked_user=self.user_expression())

    def user_expression(self) -> Any:
        """The user a row belongs to, as a query expression (``linked_user``)."""
        return _user_of_customer(OuterRef("customer"))

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return ("id", *self.columns, "user", "products", "updated", "in_stripe")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        own = ("id", *self.columns)
        return (*own, "user", "in_stripe", "updated", "version", "event", "pretty_data")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    @admin.display(description="user", ordering="linked_user")
    def user(self, obj: MirroredObject) -> str:
        return str(getattr(obj, "linked_user", None) or "")

    @admin.display(description="products")
    def products(self, obj: MirroredObject) -> str:
        return ", ".join(_products_of(obj))

    @admin.display(description="as of", ordering="version")
    def updated(self, obj: MirroredObject) -> str:
        """When the event this row was written from happened (a repair keeps that time)."""
        if not obj.version:
            return ""
        return datetime.fromtimestamp(obj.version, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    @admin.display(description="Stripe")
    def in_stripe(self, obj: MirroredObject) -> str:
        path = _dashboard_path(obj)
        if path is None:
            return ""
        livemode = obj.data.get("livemode")
        mode = livemode if isinstance(livemode, bool) else _kit_livemode()
        link = '<a href="{}" target="_blank" rel="noopener noreferrer">open in Stripe</a>'
        return format_html(link, dashboard_url(path, mode))

    @admin.display(description="data")
    def pretty_data(self, obj: MirroredObject) -> str:
        text = json.dumps(obj.data, indent=2, sort_keys=True)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


@admin.register(BillingCustomer)
class CustomerAdmin(MirrorAdmin):
    columns = ("email", "deleted")
    list_filter = ("deleted", UserFilter)
    search_fields = ("id", "email", "user_ref")

    def user_expression(self) -> Any:
        return F("user_ref")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*super().get_fields(request, obj), "linked_at")


@admin.register(BillingSubscription)
class SubscriptionAdmin(MirrorAdmin):
    columns = ("status", "customer")
    list_filter = ("status", UserFilter, ProductFilter)
    search_fields = ("id", "customer")


@admin.register(BillingInvoice)
class InvoiceAdmin(MirrorAdmin):
    columns = ("status", "customer", "subscription")
    list_filter = ("status", UserFilter, ProductFilter)
    search_fields = ("id", "customer", "subscription")


@admin.register(BillingPurchase)
class PurchaseAdmin(MirrorAdmin):
    """Checkout Sessions: one-time purchases (mode payment) and subscriptions' checkouts."""

    columns = ("status", "mode", "customer", "payment_intent")
    list_filter = ("status", "mode", UserFilter, ProductFilter)
    search_fields = ("id", "customer", "payment_intent", "user_ref")

    def user_expression(self) -> Any:
        # The user the checkout named, else the one its customer is linked to.
        return Coalesce(F("user_ref"), _user_of_customer(OuterRef("customer")), Value(None))


@admin.register(BillingCharge)
class ChargeAdmin(MirrorAdmin):
    columns = ("customer", "payment_intent")
    list_filter = (UserFilter,)
    search_fields = ("id", "customer", "payment_intent")


class _OfChargeAdmin(MirrorAdmin):
    """Refunds and disputes: their user is their charge's customer's."""

    columns = ("status", "charge", "payment_intent")
    list_filter = ("status", UserFilter)
    search_fields = ("id", "charge", "payment_intent")

    def user_expression(self) -> Any:
        customer = BillingCharge.objects.filter(id=OuterRef(OuterRef("charge")))
        return _user_of_customer(Subquery(customer.values("customer")[:1]))


@admin.register(BillingRefund)
class RefundAdmin(_OfChargeAdmin):
    pass


@admin.register(BillingDispute)
class DisputeAdmin(_OfChargeAdmin):
    pass


@admin.register(CreditLedgerEntry)
class CreditLedgerAdmin(ReadOnlyAdmin):
    """Grants (positive), spends and refunds taken back (negative), newest first."""

    list_display = ("created_at", "owner", "amount", "reason", "source")
    list_filter = (OwnerKindFilter,)
    search_fields = ("owner", "source", "reason")
    date_hierarchy = "created_at"


@admin.register(CreditBalance)
class CreditBalanceAdmin(ReadOnlyAdmin):
    list_display = ("owner", "balance")
    list_filter = (OwnerKindFilter,)
    search_fields = ("owner",)
