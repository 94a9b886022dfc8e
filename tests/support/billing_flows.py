"""A shop on the emulator whose events are captured, to deliver to a kit in any order.

``Flows`` drives real lifecycles through the emulator (checkouts made by the
kit's own checkout builder, paid on the hosted page; the clock; refunds and
disputes through the API) while the emulator delivers every event, signed, to
a sink. The tests then hand those deliveries to a fresh kit, in order or not,
and compare its billing state with the emulator's objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import stripe
from webhook_sink import WebhookSink

from stripekit import Catalog, StripeKit, apply_sync, plan_sync, read_account
from stripekit.emulator import RunningEmulator
from stripekit.testing import sign_payload

SECRET_KEY = "sk_test_billing"
WEBHOOK_SECRET = "whsec_billing"

PRODUCTS = """
[products.pro]
name = "Pro"
mode = "subscription"
features = ["Unlimited projects", "Priority support"]
credits = 100

[[products.pro.prices]]
key = "monthly"
lookup_key = "bill_pro_monthly"
amount = 1500
currency = "usd"
interval = "month"

[[products.pro.prices]]
key = "trial"
lookup_key = "bill_pro_trial"
amount = 1500
currency = "usd"
interval = "month"
trial_days = 7

[products.team]
name = "Team"
mode = "subscription"
features = ["Unlimited projects", "Shared workspaces"]
credits = 500

[[products.team.prices]]
lookup_key = "bill_team_monthly"
amount = 4900
currency = "usd"
interval = "month"

[products.pack]
name = "Credit pack"
mode = "payment"
max_quantity = 5
credits = 50

[[products.pack.prices]]
lookup_key = "bill_pack"
amount = 900
currency = "usd"

[products.book]
name = "The Book"
mode = "payment"
features = ["The book, as a PDF"]

[[products.book.prices]]
lookup_key = "bill_book"
amount = 1900
currency = "usd"
"""

CARD = "4242424242424242"
DECLINES_LATER = "4000000000000341"
DISPUTED = "4000000000000259"


def write_products(folder: Path) -> Path:
    path = folder / "products.toml"
    path.write_text(PRODUCTS)
    return path


def make_kit(emulator: RunningEmulator, products: Path, **settings: Any) -> StripeKit:
    """A kit on the emulator; the store is memory unless ``store=`` says otherwise."""
    settings.setdefault("store", "memory://")
    return StripeKit(
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=emulator.api_base,
        products=str(products),
        base_url="http://shop.test",
        **settings,
    )


class Flows:
    """Lifecycles played on the emulator; every event it sends is in ``events``."""

    def __init__(self, emulator: RunningEmulator, products: Path) -> None:
        self.emulator = emulator
        self.sink = WebhookSink().__enter__()
        emulator.add_webhook_endpoint(self.sink.url, secret=WEBHOOK_SECRET)
        self.client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": emulator.api_base})
        catalog = Catalog.load(products)
        apply_sync(self.client, plan_sync(catalog, read_account(self.client, catalog)))
        # The kit whose checkout builder makes the sessions (it processes nothing).
        self.kit = make_kit(emulator, products)

    def close(self) -> None:
        self.sink.__exit__(None, None, None)

    def connect(self, count: int = 2) -> list[str]:
        """A Connect platform: ``count`` connected accounts, each with the catalog synced in
        it, and a Connect endpoint delivering their events to the sink (``events``)."""
        self.emulator.add_webhook_endpoint(self.sink.url, secret=WEBHOOK_SECRET, connect=True)
        catalog = self.kit.catalog
        accounts = []
        for _ in range(count):
            account = self.client.v1.accounts.create({"type": "standard"}).id
            state = read_account(self.client, catalog, stripe_account=account)
            apply_sync(self.client, plan_sync(catalog, state))
            accounts.append(account)
        return accounts

    # -- what a buyer does -----------------------------------------------------------------

    def checkout(
        self, user: str | None, product: str, *, price: str | None = None, quantity: int = 1,
        card: str = CARD, email: str = "buyer@example.com", pay: bool = True,
        via_kit: bool = True, account: str | None = None,
    ) -> str:  # fmt: skip
        """A checkout made by the kit for ``user`` (or by the app itself, ``via_kit=False``:
        no stripekit metadata), in ``account`` (Connect) or the platform's, and paid on the
        hosted page; its id."""
        customer = self.kit.linked_customer(user, account) if user else None
        if via_kit:
            session = self.kit.checkout.create(
                product, price=price, quantity=quantity, client_reference_id=user,
                customer=customer, customer_email=None if customer else email,
                stripe_account=account,
            )  # fmt: skip
        else:
            _, catalog_price = self.kit.catalog.price(product, price)
            found = self.client.v1.prices.list({"lookup_keys": [catalog_price.lookup_key]})
            session = self.client.v1.checkout.sessions.create({
                "mode": self.kit.catalog.get(product).mode, "client_reference_id": user or "",
                "line_items": [{"price": found.data[0].id, "quantity": quantity}],
                "success_url": "http://shop.test/done", "customer_email": email,
            })  # fmt: skip
        if pay:
            self.pay(str(session.url), card=card, email=email)
        self.settle()
        return str(session.id)

    def pay(self, url: str, *, card: str = CARD, email: str = "buyer@example.com") -> None:
        """Pay a hosted Checkout page (``session.url``) as a buyer would."""
        form = {"card_number": card, "email": email, "name": "Ada"}
        answer = httpx.post(url, data=form)
        if answer.status_code == 200 and "3D Secure" in answer.text:
            answer = httpx.post(url, data={**form, "three_d_secure": "complete"})
        assert answer.status_code == 303, answer.text[:500]

    def pay_intent(
        self, user: str | None, product: str, *, quantity: int = 1, card: str = "pm_card_visa",
        authenticate: bool | None = True,
    ) -> str:  # fmt: skip
        """A PaymentIntent made by ``kit.payments`` (the Payment Element's) for ``user``,
        confirmed with ``card`` as a browser would (a decline stays unpaid); 3-D Secure is
        completed (``authenticate``), failed (False) or left waiting (None). Its id."""
        from stripekit import Buyer

        buyer = Buyer(reference=user, email=f"{user}@example.com") if user else None
        intent = self.kit.payments.create_intent(product, quantity, buyer)
        self.confirm(intent.id, card, authenticate=authenticate)
        return str(intent.id)

    def confirm(self, intent: str, card: str, *, authenticate: bool | None = True) -> None:
        """Confirm an intent with a card; a decline leaves it waiting for another card."""
        try:
            confirmed = self.client.v1.payment_intents.confirm(
                intent, {"payment_method": card, "return_url": "http://shop.test/pay/return"}
            )
        except stripe.CardError:
            confirmed = None
        if (
            confirmed is not None
            and confirmed.status == "requires_action"
            and authenticate is not None
        ):
            outcome = "complete" if authenticate else "fail"
            httpx.post(f"{self.emulator.url}/3ds/{intent}", data={"three_d_secure": outcome})
        self.settle()

    def subscription_of(self, session_id: str, account: str | None = None) -> str:
        return str(self.current("session", session_id, account)["subscription"])

    def refund(self, session_id: str, amount: int | None = None) -> str:
        intent = self.client.v1.checkout.sessions.retrieve(session_id).payment_intent
        params: dict[str, Any] = {"payment_intent": str(intent)}
        if amount is not None:
            params["amount"] = amount
        refund = self.client.v1.refunds.create(params)  # type: ignore[arg-type]
        self.settle()
        return str(refund.id)

    def cancel_at_period_end(self, sub: str, value: bool = True) -> None:
        self.client.v1.subscriptions.update(sub, {"cancel_at_period_end": value})
        self.settle()

    def cancel_now(self, sub: str) -> None:
        self.client.v1.subscriptions.cancel(sub)
        self.settle()

    def change_plan(self, sub: str, lookup_key: str) -> None:
        price = self.client.v1.prices.list({"lookup_keys": [lookup_key]}).data[0]
        current = self.client.v1.subscriptions.retrieve(sub)
        item = current["items"]["data"][0]["id"]
        self.client.v1.subscriptions.update(
            sub, {"items": [{"id": item, "price": price.id}], "proration_behavior": "none"}
        )
        self.settle()

    def pay_open_invoice(self, sub: str) -> None:
        current = self.client.v1.subscriptions.retrieve(sub)
        invoice = str(current.latest_invoice)
        self.client.v1.invoices.pay(invoice, {"payment_method": "pm_card_visa"})
        self.settle()

    def advance(self, days: int) -> None:
        self.emulator.advance_clock(days=days)
        self.settle()

    def settle(self) -> None:
        self.emulator.wait_for_deliveries()

    # -- what the shop receives ------------------------------------------------------------

    @property
    def events(self) -> list[tuple[bytes, str]]:
        """Each delivered event once: (body, type), in the order the emulator sent them."""
        seen: set[str] = set()
        found = []
        for received in self.sink.received:
            event = received.event
            if event["id"] not in seen:
                seen.add(event["id"])
                found.append((received.body, str(event["type"])))
        return found

    def current(self, kind: str, object_id: str, account: str | None = None) -> dict[str, Any]:
        """An object as the emulator has it now (in ``account``, Connect), as a plain dict."""
        retrieve: Any = {
            "subscription": self.client.v1.subscriptions.retrieve,
            "invoice": self.client.v1.invoices.retrieve,
            "session": self.client.v1.checkout.sessions.retrieve,
            "customer": self.client.v1.customers.retrieve,
            "payment_intent": self.client.v1.payment_intents.retrieve,
        }[kind]
        options: Any = {"stripe_account": account} if account is not None else {}
        found: dict[str, Any] = json.loads(
            json.dumps(retrieve(object_id, None, options).to_dict(), default=str)
        )
        return found


def deliver(kit: StripeKit, body: bytes) -> Any:
    """One delivery, signed now (the emulator's own signature may be days old on its clock)."""
    headers = {"Stripe-Signature": sign_payload(body, WEBHOOK_SECRET)}
    return kit.handle_webhook(body, headers)


async def adeliver(kit: StripeKit, body: bytes) -> Any:
    headers = {"Stripe-Signature": sign_payload(body, WEBHOOK_SECRET)}
    return await kit.ahandle_webhook(body, headers)


def feed(kit: StripeKit, flows: Flows) -> list[str]:
    """Deliver what the kit has not had yet; the types delivered."""
    flows.settle()
    done = kit.__dict__.setdefault("_fed", set())
    delivered = []
    for body, event_type in flows.events:
        event_id = json.loads(body)["id"]
        if event_id not in done:
            done.add(event_id)
            assert deliver(kit, body).status == 200
            delivered.append(event_type)
    return delivered
