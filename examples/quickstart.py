"""A webhook delivered, verified, recorded and dispatched, all on this machine.

Run: python examples/quickstart.py
"""

from __future__ import annotations

from stripekit import Event, StripeKit, WebhookRegistry
from stripekit.testing import signed_event

webhooks = WebhookRegistry()


@webhooks.on("checkout.session.completed")
def fulfil(event: Event) -> None:
    session = event.object
    print(f"fulfil order for {session['client_reference_id']}: session {session['id']}")


kit = StripeKit(
    secret_key="sk_test_quickstart",
    webhook_secret="whsec_quickstart",
    webhooks=webhooks,
    store="memory://",
)

session = {"id": "cs_test_1", "object": "checkout.session", "client_reference_id": "user-42"}
body, headers = signed_event("checkout.session.completed", session, secret="whsec_quickstart")
for delivery in (1, 2):  # Stripe delivers at least once: the second is recognised
    result = kit.handle_webhook(body, headers)
    print(f"delivery {delivery}: HTTP {result.status} {result.body}")
