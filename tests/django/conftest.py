"""The Django tests: the project in tests/django/django_project, the emulator as Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from django.conf import settings

from stripekit import Catalog, apply_sync, plan_sync, read_account
from stripekit.emulator import RunningEmulator
from stripekit_django.conf import reset_kit


@pytest.fixture
def stripekit_settings(stripe_emulator: RunningEmulator) -> Iterator[dict[str, Any]]:
    """STRIPEKIT pointing at the emulator, with the project's products synced into it."""
    original = settings.STRIPEKIT
    configured = {**original, "API_BASE": stripe_emulator.api_base}
    settings.STRIPEKIT = configured
    reset_kit()
    client = stripe.StripeClient(
        configured["SECRET_KEY"], base_addresses={"api": stripe_emulator.api_base}
    )
    catalog = Catalog.load(configured["PRODUCTS"])
    apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
    yield configured
    settings.STRIPEKIT = original
    reset_kit()
