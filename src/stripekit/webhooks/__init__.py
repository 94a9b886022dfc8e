"""The webhook pipeline: verify a delivery, read the event, claim it, run its handlers.

``_signature`` checks the ``Stripe-Signature`` header on the raw bytes;
``_event`` is the light view of a verified event; ``_event_types`` knows the
types Stripe sends; ``_registry`` maps types to handlers; ``_dispatch`` runs a
claimed event's handlers and records the outcome; ``_processing`` is the whole
delivery, from bytes to the answer Stripe gets. ``_store`` is the event-store
protocol this pipeline needs; its implementations live in ``stripekit.store``.

May import: the top-level helpers (``_errors``, ``_types``, ``_stripe_api``).
Never ``store``, ``catalog``, ``shop`` or the kit. Public names are exported
from ``stripekit``.
"""
