"""The emulator for these tests: one server for the module, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from webhook_sink import WebhookSink

from stripekit.emulator import RunningEmulator

SECRET_KEY = "sk_test_emulator_tests"
WEBHOOK_SECRET = "whsec_emulator_tests"


@pytest.fixture
def emulator(stripe_emulator: RunningEmulator) -> RunningEmulator:
    return stripe_emulator


@pytest.fixture
def client(emulator: RunningEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": emulator.api_base}, max_network_retries=0
    )


@pytest.fixture
def sink(emulator: RunningEmulator) -> Iterator[WebhookSink]:
    with WebhookSink() as receiver:
        emulator.add_webhook_endpoint(receiver.url, secret=WEBHOOK_SECRET)
        yield receiver


class Shop:
    """Drives the emulator the way an app and its buyers do: stripe-python and the hosted page."""

    def __init__(self, client: stripe.StripeClient, emulator: RunningEmulator) -> None:
        self.client = client
        self.emulator = emulator

    def price(self, amount: int = 1500, *, interval: str | None = "month", **extra: Any) -> str:
        """A new product with one price (recurring unless ``interval=None``); its id."""
        params: dict[str, Any] = {
            "product_data": {"name": extra.pop("name", "Pro")},
            "currency": extra.pop("currency", "usd"),
            "unit_amount": amount,
            **extra,
        }
        if interval:
            params["recurring"] = {"interval": interval}
        return self.client.v1.prices.create(params).id  # type: ignore[arg-type]

    def checkout(
        self,
        price: str | None,
        *,
        mode: str = "subscription",
        card: str = "4242424242424242",
        quantity: int = 1,
        **params: Any,
    ) -> stripe.checkout.Session:
        """A Checkout Session paid on the hosted page (asserted), retrieved afterwards."""
        params.setdefault("success_url", "https://shop.test/ok")
        if "customer" not in params and mode != "setup":
            params.setdefault("customer_email", "ada@example.com")
        if price is not None:
            params["line_items"] = [{"price": price, "quantity": quantity}]
        session = self.client.v1.checkout.sessions.create({"mode": mode, **params})
        answer = self.pay_page(str(session.url), card)
        assert answer.status_code == 303, answer.text
        return self.client.v1.checkout.sessions.retrieve(session.id)

    @staticmethod
    def pay_page(url: str, card: str, **form: str) -> httpx.Response:
        return httpx.post(url, data={"card_number": card, **form})

    def subscribe(
        self, amount: int = 1500, *, card: str = "4242424242424242", **params: Any
    ) -> stripe.Subscription:
        """A subscription started through Checkout; retrieved."""
        session = self.checkout(self.price(amount), card=card, **params)
        return self.client.v1.subscriptions.retrieve(str(session.subscription))

    def payment(self, amount: int = 2500, card: str = "4242424242424242") -> stripe.PaymentIntent:
        """A one-time payment through Checkout; its payment intent."""
        session = self.checkout(self.price(amount, interval=None), mode="payment", card=card)
        return self.client.v1.payment_intents.retrieve(str(session.payment_intent))

    def save_card(self, customer: str, card: str) -> str:
        """A test card attached to the customer; its payment method id."""
        return self.client.v1.payment_methods.attach(card, {"customer": customer}).id

    def latest_invoice(self, subscription: str) -> stripe.Invoice:
        """The subscription's latest invoice, as it is now."""
        sub = self.client.v1.subscriptions.retrieve(subscription)
        return self.client.v1.invoices.retrieve(str(sub.latest_invoice))

    def mark(self) -> int:
        """Where the event log is now (for ``since``)."""
        return len(self.emulator.events())

    def since(self, mark: int) -> list[str]:
        """The types of the events recorded after ``mark``, in order."""
        return [e["type"] for e in self.emulator.events()[mark:]]

    def events_since(self, mark: int) -> list[dict[str, Any]]:
        return self.emulator.events()[mark:]


@pytest.fixture
def shop(client: stripe.StripeClient, emulator: RunningEmulator) -> Shop:
    return Shop(client, emulator)
