"""Fulfilment: each handler runs in one transaction with its event's status.

Found by stripekit_django like an app's admin.py.
"""

from django.db.models import F

from stripekit_django import get_kit, webhooks

from .models import CreditBalance, Order, Subscription


@webhooks.on("checkout.session.completed")
def fulfil(event):
    session = event.object
    metadata = session.get("metadata") or {}
    product = metadata.get("stripekit_product", "?")
    email = (session.get("customer_details") or {}).get("email") or session.get("customer_email")
    try:
        _, price = get_kit().catalog.price(product)
        quantity = max(1, (session.get("amount_total") or 0) // max(price.amount, 1))
    except LookupError:
        quantity = 1
    order, created = Order.objects.get_or_create(
        session_id=session["id"],
        defaults={"product": product, "quantity": quantity, "email": email,
                  "amount": session.get("amount_total"), "currency": session.get("currency")},
    )
{%- if cookiecutter.credits_product %}
    if created and product == "credits" and email:
        balance, _ = CreditBalance.objects.get_or_create(email=email)
        CreditBalance.objects.filter(pk=balance.pk).update(balance=F("balance") + 100 * quantity)
{%- endif %}
    print(f"fulfilled {product} x {quantity} for {email} ({session['id']})", flush=True)


@webhooks.on("customer.subscription.*")
def track_subscription(event):
    subscription = event.object
    Subscription.objects.update_or_create(
        id=subscription["id"],
        defaults={"customer": subscription.get("customer"), "status": subscription.get("status")},
    )


@webhooks.on("invoice.paid", "invoice.payment_failed")
def track_invoice(event):
    invoice = event.object
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = parent.get("subscription") or invoice.get("subscription")
    if subscription:
        status = "paid" if event.type == "invoice.paid" else "payment_failed"
        Subscription.objects.filter(id=subscription).update(last_invoice=status)
