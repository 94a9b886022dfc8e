"""The billing admin's list filters: by user, by catalog product, by credits owner."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest

from stripekit._errors import StripekitError

from .models import BillingCustomer, BillingPurchase

__all__ = ["USERS_LISTED", "OwnerKindFilter", "ProductFilter", "UserFilter"]

USERS_LISTED = 200
"""The user filter lists this many users; any other is ``?user=<reference>`` in the URL."""


class UserFilter(admin.SimpleListFilter):
    """By the app user a row belongs to (``?user=<reference>``)."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        users: set[str] = set()
        for model in (BillingCustomer, BillingPurchase):
            found = model.objects.exclude(user_ref=None).values_list("user_ref", flat=True)
            users.update(found.distinct().order_by("user_ref")[:USERS_LISTED])
        return [(user, user) for user in sorted(users)[:USERS_LISTED]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        user = self.value()
        return queryset if user is None else queryset.filter(linked_user=user)


class ProductFilter(admin.SimpleListFilter):
    """By catalog product key, among the products the object bills (``?product=<key>``)."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from .conf import get_kit

        try:
            keys = get_kit().catalog.keys()
        except StripekitError:
            return []  # no catalog: ?product=<key> still filters
        return [(key, key) for key in keys]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        key = self.value()
        if key is None:
            return queryset
        # The lines and items are JSON lists of {"product": key, ...}; SQLite and PostgreSQL
        # both render a JSON value's text with ": " between a key and its value.
        needle = json.dumps({"product": key})[1:-1]
        text = queryset.annotate(data_text=Cast("data", output_field=TextField()))
        return text.filter(data_text__contains=needle)


class OwnerKindFilter(admin.SimpleListFilter):
    """Users' credits, or customers' not linked to a user yet."""

    title = "owner"
    parameter_name = "owner_kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("user", "users"), ("customer", "customers not linked yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        kind = self.value()
        return queryset if kind is None else queryset.filter(owner__startswith=f"{kind}:")
