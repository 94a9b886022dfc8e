"""The app's current user, as the shop sees them (Checkout and the Payment Element)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Buyer"]


@dataclass(frozen=True)
class Buyer:
    """The app's current user, as Checkout sees them; supplied by the app per request.

    Attributes:
        customer: an existing Stripe customer (``cus_...``): Checkout reuses it.
        email: prefills Checkout's email (when there is no ``customer``).
        reference: the app's own id for the user, sent as ``client_reference_id``.
        metadata: extra metadata for the session.
    """

    customer: str | None = None
    email: str | None = None
    reference: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
