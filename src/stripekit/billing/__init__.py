"""The billing state: a local mirror of who has paid for what, the queries and the
operations on it, and the account page's decisions.

The kit keeps it with handlers of its own that run before the app's, on the
events Stripe sends: customers and their link to the app's users,
subscriptions, invoices, one-time purchases with their refunds and disputes,
and a credits ledger (``_rows`` turns each object into a row). Each mirrored
object remembers the ``created`` of the event it was last written from: an
older event never overwrites it, and a tie is settled by fetching the object
from Stripe (``_projection``). So once the events have been delivered, in any
order and any number of times, the mirror equals Stripe's state. ``_repair``
rewrites it from Stripe (``stripekit billing sync``).

``_store`` is the interface the mirror needs; ``_memory`` and ``_sql`` are two
of its implementations (the Django one is ``stripekit_django``'s).
``_queries`` is what an app asks (``kit.billing.is_subscribed(user, "pro")``),
``_operations`` what it does (``kit.billing.cancel(sub, user=...)``), and
``_account`` what the integrations' account page shows and runs.

May import: ``webhooks`` (events, handlers), ``store`` (the SQL event store's
database), ``catalog`` (products, credits) and the top-level helpers. Public
names are exported from ``stripekit``.
"""
