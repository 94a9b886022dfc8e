"""The emulator for these tests: one server for the module, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

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
