"""The products catalog: what the shop sells, and keeping Stripe in step with it.

``_models`` (Product, Price) and ``_catalog`` (the TOML file, the Catalog)
declare it; ``_explain`` turns a validation report into one error that says
what to fix; ``_currencies`` knows minor units; ``_prices`` resolves a price to
its Stripe id; ``_sync``, ``_sync_state`` and ``_pull`` compare the catalog
with a Stripe account and make one match the other.

May import: the top-level helpers (``_errors``, ``_settings``, ``_stripe_api``).
Public names are exported from ``stripekit``.
"""
