"""What happens when Stripe says something happened: fulfilment, in the shop's own database.

Stripe delivers each event at least once and in any order; stripekit runs each
handler once per event and retries a handler that raised on Stripe's next delivery.
"""

from __future__ import annotations

from stripekit import Event, WebhookRegistry

from . import db

webhooks = WebhookRegistry()


@webhooks.on("checkout.session.completed")
def fulfil(event: Event) -> None:
    session = event.object
    metadata = session.get("metadata") or {}
    product = metadata.get("stripekit_product", "?")
    email = (session.get("customer_details") or {}).get("email") or session.get("customer_email")
    quantity = _quantity(product, session)
    inserted = db.write(
        "INSERT OR IGNORE INTO orders (session_id, product, quantity, email, amount, currency) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (session["id"], product, quantity, email, session.get("amount_total"), session.get("currency")),
    )
{%- if cookiecutter.credits_product %}
    if inserted and product == "credits" and email:
        db.write(
            "INSERT INTO credits (email, balance) VALUES (?, ?) "
            "ON CONFLICT (email) DO UPDATE SET balance = balance + excluded.balance",
            (email, 100 * quantity),
        )
{%- endif %}
    print(f"fulfilled {product} x {quantity} for {email} ({session['id']})", flush=True)


def _quantity(product: str, session: dict) -> int:
    """How many were bought: the total over the catalog's unit price (no discounts here)."""
    from .app import kit

    try:
        _, price = kit.catalog.price(product)
    except LookupError:
        return 1
    return max(1, (session.get("amount_total") or 0) // max(price.amount, 1))


@webhooks.on("customer.subscription.*")
def track_subscription(event: Event) -> None:
    subscription = event.object
    db.write(
        "INSERT INTO subscriptions (id, customer, status) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status",
        (subscription["id"], subscription.get("customer"), subscription.get("status")),
    )


@webhooks.on("invoice.paid", "invoice.payment_failed")
def track_invoice(event: Event) -> None:
    invoice = event.object
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = parent.get("subscription") or invoice.get("subscription")
    if subscription:
        status = "paid" if event.type == "invoice.paid" else "payment_failed"
        db.write(
            "UPDATE subscriptions SET last_invoice = ? WHERE id = ?", (status, subscription)
        )
