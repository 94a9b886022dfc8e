"""The template's two old billing bugs, played against a generated FastAPI project.

Projects made before the billing state kept their own credits table and got two
things wrong (issue 15): credits were counted as ``amount_total // unit price``, so
two packs bought with a 50% promotion code granted one pack's credits; and the order
and the credit grant were written in two transactions, so a failure between them
lost the grant for good (the redelivery found the order and granted nothing). The
generated project now leaves both to ``kit.billing``: these pass with it, and fail
on the old template (run against it, they grant 100 credits and then none).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import stripe
from cookiecutter.main import cookiecutter

from stripekit import Catalog, StripeKit, apply_sync, plan_sync, read_account
from stripekit.billing import _sql
from stripekit.emulator import RunningEmulator
from stripekit.testing import sign_payload

TEMPLATE = Path(__file__).resolve().parents[2] / "template"
SECRET = "whsec_template_billing"
KEY = "sk_test_template_billing"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """A generated FastAPI shop with a credits pack, its package importable."""
    made = Path(cookiecutter(
        str(TEMPLATE), no_input=True, output_dir=str(tmp_path),
        extra_context={"project_name": "Credit Shop", "framework": "fastapi"},
    ))  # fmt: skip
    monkeypatch.syspath_prepend(str(made))
    yield importlib.import_module("credit_shop.handlers")
    for module in [m for m in sys.modules if m.startswith("credit_shop")]:
        del sys.modules[module]


@pytest.fixture
def kit(
    project: ModuleType,
    stripe_emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> StripeKit:
    """The project's kit, as its app makes it, on the emulator."""
    root = Path(project.__file__).parents[1]
    client = stripe.StripeClient(KEY, base_addresses={"api": stripe_emulator.api_base})
    catalog = Catalog.load(root / "products.toml")
    apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
    made = StripeKit(
        secret_key=KEY, webhook_secret=SECRET, api_base=stripe_emulator.api_base,
        products=str(root / "products.toml"), base_url="http://shop.test",
        database_url=f"sqlite:///{tmp_path / 'events.sqlite3'}", webhooks=project.webhooks,
    )  # fmt: skip
    # The project's handlers read the app's kit: this one.
    app = importlib.import_module("credit_shop.app")
    monkeypatch.setattr(app, "kit", made)
    return made


def buy_two_packs(kit: StripeKit, emulator: RunningEmulator) -> list[dict[str, Any]]:
    """Two credit packs bought by ada and paid; the events Stripe sent for it."""
    start = len(emulator.events())
    session = kit.checkout.create(
        "credits", quantity=2, client_reference_id="ada", customer_email="ada@example.com"
    )
    paid = httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    assert paid.status_code == 303, paid.text
    return emulator.events()[start:]


def deliver(kit: StripeKit, event: dict[str, Any]) -> int:
    body = json.dumps(event).encode()
    return kit.handle_webhook(body, {"Stripe-Signature": sign_payload(body, SECRET)}).status


def test_a_promotion_code_does_not_shrink_the_credits(
    kit: StripeKit, stripe_emulator: RunningEmulator
) -> None:
    for event in buy_two_packs(kit, stripe_emulator):
        if event["type"] == "checkout.session.completed":
            # As Stripe sends it when a 50% promotion code was applied: half the total.
            session = event["data"]["object"]
            session["amount_total"] = session["amount_subtotal"] // 2
            session["total_details"] = {"amount_discount": session["amount_total"],
                                        "amount_shipping": 0, "amount_tax": 0}  # fmt: skip
        assert deliver(kit, event) == 200
    (purchase,) = kit.billing.purchases("ada")
    assert purchase.amount_total == 900 and purchase.amount_discount == 900
    # 2 packs of 100 credits, whatever was paid for them (the old template: 900 // 900 = 1).
    assert kit.billing.credits.balance("ada") == 200


def test_a_failure_between_the_purchase_and_the_grant_loses_nothing(
    kit: StripeKit, stripe_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = buy_two_packs(kit, stripe_emulator)
    grant = _sql._Writer.grant
    failures = [RuntimeError("the database went away between the purchase and the grant")]

    def failing_once(self: Any, *args: Any, **kwargs: Any) -> bool:
        if failures:
            raise failures.pop()
        return grant(self, *args, **kwargs)

    monkeypatch.setattr(_sql._Writer, "grant", failing_once)
    statuses = [deliver(kit, event) for event in events]
    assert 500 in statuses  # Stripe is told to deliver it again...
    assert kit.billing.purchases("ada") == []  # ...and nothing half-done was kept
    assert kit.billing.credits.balance("ada") == 0
    for event in events:  # Stripe's next delivery
        assert deliver(kit, event) == 200
    (purchase,) = kit.billing.purchases("ada")
    assert purchase.status == "paid"
    # The old template's order row survived the failure, so its redelivery granted none.
    assert kit.billing.credits.balance("ada") == 200
    for event in events:  # and any further delivery changes nothing
        deliver(kit, event)
    assert kit.billing.credits.balance("ada") == 200
