"""The metadata keys the kit writes on Stripe objects, and only the kit (``stripekit_*``).

Checkout puts them on the session, its subscription and its payment, so each of
their events says what was bought and for whom, whichever arrives first.
"""

from __future__ import annotations

__all__ = [
    "METADATA_PRICE",
    "METADATA_PRODUCT",
    "METADATA_QUANTITY",
    "METADATA_USER",
    "RESERVED_PREFIX",
]

RESERVED_PREFIX = "stripekit_"
"""An app's own metadata may not start with it: handlers trust these keys."""

METADATA_PRODUCT = "stripekit_product"
"""The catalog's product key (also on the products and prices sync creates)."""

METADATA_PRICE = "stripekit_price"
"""The catalog's price key."""

METADATA_USER = "stripekit_user"
"""The app's user reference (the Buyer's, also sent as ``client_reference_id``)."""

METADATA_QUANTITY = "stripekit_quantity"
"""How many units a PaymentIntent made by ``kit.payments`` pays for. Only those intents
carry it: the billing state records them as purchases of their own (a Checkout
Session's intent is recorded through its session)."""
