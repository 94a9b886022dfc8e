"""The event log in Django's admin: filters, the payload pretty-printed, replay of failures.

The billing state's admins are in ``billing_admin`` (registered by importing it here).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from . import billing_admin  # noqa: F401 - registers the billing state's admins
from .models import WebhookEvent

__all__ = ["WebhookEventAdmin"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: events are Stripe's record, changed only by processing and replays."""

    list_display = ("id", "type", "status", "livemode", "attempts", "received_at", "processed_at")
    list_filter = ("status", "livemode", "type")
    search_fields = ("id", "type")
    date_hierarchy = "received_at"
    actions = ("replay",)
    fields = (
        "id", "type", "status", "livemode", "account", "attempts", "created", "received_at",
        "processed_at", "last_error", "pretty_payload",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="payload")
    def pretty_payload(self, obj: WebhookEvent) -> str:
        try:
            text = json.dumps(json.loads(bytes(obj.payload)), indent=2, sort_keys=True)
        except (ValueError, UnicodeDecodeError):
            text = repr(bytes(obj.payload))
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.action(description="Replay the selected failed events")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        from .conf import get_kit

        kit = get_kit()
        done: list[str] = []
        not_done: list[str] = []
        for event in queryset.order_by("received_at"):
            result = kit.replay(event.id)
            (done if result.outcome in ("processed", "unhandled") else not_done).append(
                f"{event.id}: {result.outcome}"
            )
        if done:
            self.message_user(request, f"Replayed {len(done)}: {', '.join(done)}", messages.SUCCESS)
        if not_done:
            self.message_user(request, f"Not replayed: {', '.join(not_done)}", messages.WARNING)
