"""What the emulator does not do, said plainly (docs/emulator.md shows this table)."""

from __future__ import annotations

__all__ = ["MISSING_KEYS", "NOT_EMULATED"]

NOT_EMULATED: dict[str, str] = {
    "Other resources": "Only products, prices, customers, Checkout and portal sessions, "
    "subscriptions, invoices, payment intents, webhook endpoints and events exist; any other "
    "/v1 path answers 404 like an unknown URL.",
    "Setup mode and price_data": "Checkout Sessions take mode payment or subscription and "
    "line_items with a Price id; setup mode and inline price_data are refused with a 400.",
    "Taxes, discounts, promotion codes, shipping": "Accepted where Stripe takes them, but "
    "amounts are never taxed or discounted.",
    "Charges, refunds, disputes, payment methods": "Payments succeed or fail by test card; "
    "no charge, refund or payment method objects are stored (ids are made up).",
    "Tiered, metered and custom-amount prices": "Prices have a fixed unit_amount.",
    "Proration and plan changes": "Subscriptions renew, end trials and cancel; changing "
    "items or quantities is not emulated.",
    "Failed renewals and dunning": "A renewal is always paid (the card paid once already); "
    "no invoice.payment_failed, past_due or unpaid subscriptions, no smart retries.",
    "Asynchronous payment methods and 3-D Secure": "Cards pay at once; no "
    "async_payment_succeeded, no requires_action.",
    "Connect, test clocks, search, files, v2 API": "Not emulated.",
    "Params outside the table above": 'Refused with a 400 that says "not emulated: ..." '
    "(e.g. payment_method_options, tax_id_collection), never accepted and ignored.",
    "Event ordering and timing": "Events are recorded in the order listed in these docs "
    "and delivered in that order; Stripe itself does not guarantee any order.",
}
"""Feature → what happens instead."""

MISSING_KEYS: dict[str, dict[str, str]] = {}
"""Keys of Stripe's sample objects (fixtures3.json) an emulated object lacks, with why.

Keys are dotted paths at any depth (``customer_details.business_name``). Empty:
every object, and every nested part the emulator fills in, starts from the full
shape stripe-python declares, so every key Stripe sends is there (with neutral
values where the emulator has nothing to say, e.g. ``shipping_cost: null``).
"""
