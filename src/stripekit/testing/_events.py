"""Realistic Stripe events for tests: the envelope Stripe puts around an object."""

from __future__ import annotations

import json
import time
from typing import Any

from stripekit._shapes import object_name_for_event, random_id, sample_object

from ._signing import signed_headers

__all__ = ["event_body", "make_event", "make_thin_event", "signed_event"]


def make_event(
    event_type: str,
    obj: dict[str, Any] | None = None,
    *,
    id: str | None = None,
    created: int | None = None,
    livemode: bool = False,
    previous_attributes: dict[str, Any] | None = None,
    account: str | None = None,
    request_id: str | None = None,
    api_version: str | None = None,
) -> dict[str, Any]:
    """A snapshot event of ``event_type`` around ``obj``, shaped like Stripe's.

    With no ``obj``, a sample of the right kind stands in, with every key
    stripe-python declares for it (see ``sample_object``).

    Example:
        >>> event = make_event("invoice.paid", {"id": "in_1", "object": "invoice"})
        >>> event["object"], event["type"], event["data"]["object"]["id"]
        ('event', 'invoice.paid', 'in_1')
    """
    if obj is None:
        obj = sample_object(object_name_for_event(event_type))
    if api_version is None:
        from stripe._api_version import _ApiVersion

        api_version = _ApiVersion.CURRENT
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    event: dict[str, Any] = {
        "id": id or random_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": None},
        "type": event_type,
    }
    if account is not None:
        event["account"] = account
    return event


def make_thin_event(
    event_type: str,
    related_object: dict[str, Any] | None = None,
    *,
    id: str | None = None,
    livemode: bool = False,
    context: str | None = None,
) -> dict[str, Any]:
    """A thin (v2) event notification, shaped like Stripe's ``v2.core.event`` payloads.

    Example:
        >>> make_thin_event("v1.billing.meter.no_meter_found")["object"]
        'v2.core.event'
    """
    event: dict[str, Any] = {
        "id": id or random_id("evt_test_"),
        "object": "v2.core.event",
        "type": event_type,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "livemode": livemode,
        "reason": None,
    }
    if related_object is not None:
        event["related_object"] = related_object
    if context is not None:
        event["context"] = context
    return event


def event_body(event: dict[str, Any]) -> bytes:
    """The event as the bytes Stripe would post (pretty-printed like Stripe's bodies)."""
    return json.dumps(event, indent=2).encode()


def signed_event(
    event_type: str,
    obj: dict[str, Any] | None = None,
    *,
    secret: str,
    timestamp: int | None = None,
    **fields: Any,
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a signed delivery, ready to post to a webhook route.

    Example:
        >>> body, headers = signed_event("invoice.paid", secret="whsec_test")
        >>> headers["Stripe-Signature"].startswith("t=")
        True
    """
    body = event_body(make_event(event_type, obj, **fields))
    return body, signed_headers(body, secret, timestamp=timestamp)
