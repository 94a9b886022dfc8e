"""What the emulator does not do, said plainly (docs/emulator.md shows this table)."""

from __future__ import annotations

__all__ = ["MISSING_KEYS", "NOT_EMULATED"]

NOT_EMULATED: dict[str, str] = {
    "Other resources": "Only the requests in the table above exist (products, prices, "
    "customers, payment methods, Checkout and portal sessions, setup intents, subscriptions, "
    "invoices, invoice items and payments, payment intents, charges, refunds, disputes, test "
    "clocks, webhook endpoints, events); any other /v1 path answers 404 like an unknown URL.",
    "Inline price_data": "Checkout Sessions and subscription items take a Price id; "
    "price_data is refused as not emulated.",
    "Taxes, discounts, promotion codes, shipping": "automatic_tax[enabled] and "
    "allow_promotion_codes are recorded, but amounts are never taxed or discounted (as for an "
    "account with no tax registration and no coupon); discounts, shipping options and tax "
    "rates are refused.",
    "Tiered, metered and custom-amount prices": "Prices have a fixed unit_amount.",
    "Guest customers": "In payment mode the emulator always makes a Customer; Stripe's "
    "default (customer_creation=if_required) makes none, so only customer_creation=always "
    "is honoured.",
    "Some events": "No payment_method.* events, no charge.succeeded, charge.failed, "
    "charge.captured or charge.updated, and an invoice's payment intent sends no events of "
    "its own (except a subscription's first one, confirmed in the page): the objects exist "
    "and can be fetched.",
    "Expiring incomplete subscriptions": "A subscription created with "
    "payment_behavior=default_incomplete stays incomplete until paid or canceled; Stripe "
    "makes it incomplete_expired after 23 hours.",
    "Smart Retries": "A failed subscription payment is retried on a fixed schedule (3, 5, 7 "
    "days; configure_dunning or POST /_emulator/dunning), not at Stripe's learned moments.",
    "Cancel before the period ends, prorated": "cancel_at before the current period's end "
    "is honoured only with proration_behavior=none (Stripe would credit the unused part).",
    "Stripe.js": "The stand-in at /v3/ does embedded Checkout, elements() with the Payment "
    "Element (cards only, its fields plain inputs in the page rather than Stripe's iframe), "
    "confirmPayment and retrievePaymentIntent; 3-D Secure is a redirect to the emulator's "
    "challenge page. No other element, no wallets, no appearance API.",
    "Other 3-D Secure and asynchronous payment methods": "Only 4000 0025 0000 3155 asks for "
    "3-D Secure; cards pay at once: no async_payment_succeeded, no processing state.",
    "Connect beyond accounts": "`POST /v1/accounts` makes a test-mode account, enabled at once "
    "(no onboarding, no requirements, no account links, transfers, application fees or "
    "payouts); `Stripe-Account` acts for it on every request; events carry `account` and go "
    "to Connect endpoints only.",
    "Search, files, v2 API": "Not emulated.",
    "Params outside the table above": 'Refused with a 400 that says "not emulated: ..." '
    "(e.g. payment_method_options, tax_id_collection), never accepted and ignored.",
    "Timing and event order": "Stripe finalizes a renewal's invoice about an hour after "
    "invoice.created and sends events asynchronously, in no guaranteed order; the emulator "
    "does it at once and sends the events of each step in the order these docs list.",
}
"""Feature → what happens instead."""

MISSING_KEYS: dict[str, dict[str, str]] = {}
"""Keys of Stripe's sample objects (fixtures3.json) an emulated object lacks, with why.

Keys are dotted paths at any depth (``customer_details.business_name``). Empty:
every object, and every nested part the emulator fills in, starts from the full
shape stripe-python declares, so every key Stripe sends is there (with neutral
values where the emulator has nothing to say, e.g. ``shipping_cost: null``).
"""
