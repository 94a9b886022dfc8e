"""What happens when Stripe says something happened: this shop's own work.

Found by stripekit_django like an app's admin.py. stripekit's own handlers keep
the billing state (subscriptions, purchases, credits) and run before these, in
the same transaction as the event's status: a handler here reads it and does
what only this shop knows how to do (send the goods, an email). A handler that
raises rolls back with the billing state, and Stripe's next delivery runs both
again.
"""

from stripekit_django import get_kit, webhooks


@webhooks.on("checkout.session.completed")
def fulfil(event):
    session = event.object
    user = session.get("client_reference_id")
    if not user:
        return  # an anonymous checkout: Stripe's receipt is all there is
    for purchase in get_kit().billing.purchases(user):
        if purchase.id == session["id"] and purchase.status == "paid":
            bought = ", ".join(f"{line.description} x {line.quantity}" for line in purchase.lines)
            print(f"fulfilled {bought} for user {user} ({purchase.id})", flush=True)
            # Send the goods here.


@webhooks.on("customer.subscription.deleted")
def ended(event):
    print(f"subscription ended: {event.object['id']}", flush=True)
