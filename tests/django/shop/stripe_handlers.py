"""Found by stripekit_django's autodiscovery, like an app's admin.py."""

from stripekit_django import webhooks

from .models import Order


@webhooks.on("checkout.session.completed")
def fulfil(event):
    session = event.object
    email = (session.get("customer_details") or {}).get("email") or session.get("customer_email")
    Order.objects.create(session_id=session["id"], email=email)
    if email and "fail" in email:
        # After its write: the transaction must roll the order back.
        raise RuntimeError("the warehouse is down")
