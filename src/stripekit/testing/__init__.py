"""Helpers for testing code that uses stripekit: signed payloads and realistic events.

Example:
    >>> from stripekit.testing import signed_event
    >>> body, headers = signed_event("checkout.session.completed", secret="whsec_test")
    >>> # client.post("/stripe/webhook", content=body, headers=headers)
"""

from __future__ import annotations

from stripekit._shapes import object_name_for_event, sample_object

from ._events import event_body, make_event, make_thin_event, signed_event
from ._signing import sign_payload, signed_headers

__all__ = [
    "event_body",
    "make_event",
    "make_thin_event",
    "object_name_for_event",
    "sample_object",
    "sign_payload",
    "signed_event",
    "signed_headers",
]
