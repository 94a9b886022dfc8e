"""What happens when Stripe says something happened: this shop's own work.

Who has paid for what is stripekit's billing state (``kit.billing``): its own
handlers keep it, in order whatever order Stripe's events arrive in, and run
before these, in the same unit of work. A handler here reads it, and does what
only this shop knows how to do: send the goods, an email, provision an account.
Stripe delivers each event at least once; stripekit runs each handler once per
event, and again on Stripe's next delivery if it raised.
"""

from __future__ import annotations

from stripekit import Event, WebhookRegistry

webhooks = WebhookRegistry()


@webhooks.on("checkout.session.completed")
def fulfil(event: Event) -> None:
    from .app import kit

    session = event.object
    user = session.get("client_reference_id")
    if not user:
        return  # an anonymous checkout: Stripe's receipt is all there is
    for purchase in kit.billing.purchases(user):
        if purchase.id == session["id"] and purchase.status == "paid":
            bought = ", ".join(f"{line.description} x {line.quantity}" for line in purchase.lines)
            print(f"fulfilled {bought} for {user} ({purchase.id})", flush=True)
            # Send the goods here.


@webhooks.on("customer.subscription.deleted")
def ended(event: Event) -> None:
    print(f"subscription ended: {event.object['id']}", flush=True)
