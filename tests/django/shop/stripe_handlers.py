"""Found by stripekit_django's autodiscovery, like an app's admin.py."""

import os
import threading

from stripekit_django import webhooks

from .models import Order


@webhooks.on("checkout.session.completed")
def fulfil(event):
    session = event.object
    email = (session.get("customer_details") or {}).get("email") or session.get("customer_email")
    Order.objects.create(session_id=session["id"], email=email)
    if email and "hang" in email and os.environ.get("STRIPEKIT_WORKER_DATABASE"):
        # In tests/django/test_tasks.py's db_worker only: a call that never returns, its
        # order written and not committed, until the test kills the worker.
        threading.Event().wait()
    if email and "fail" in email:
        # After its write: the transaction must roll the order back.
        raise RuntimeError("the warehouse is down")
