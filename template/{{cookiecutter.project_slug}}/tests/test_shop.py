"""The shop's own tests: they pass out of the box, against stripekit's local Stripe emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stripekit.testing import signed_event

SECRET = "whsec_tests"
{% set first = "starter_kit" if cookiecutter.one_time_product else ("credits" if cookiecutter.credits_product else "pro") %}
{%- if cookiecutter.framework == "fastapi" %}
import httpx
import stripe
from stripekit import StripeKit

from {{ cookiecutter.project_slug }} import ROOT, db
from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.handlers import webhooks


@pytest.fixture
def kit(stripe_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StripeKit:
    monkeypatch.setenv("SHOP_DATABASE", str(tmp_path / "shop.sqlite3"))
    from stripekit import Catalog, apply_sync, plan_sync, read_account

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_emulator.api_base})
    catalog = Catalog.load(ROOT / "products.toml")
    apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
    return StripeKit(
        secret_key="sk_test_x", webhook_secret=SECRET, api_base=stripe_emulator.api_base,
        products=str(ROOT / "products.toml"), base_url="http://shop.test",
        database_url=f"sqlite:///{tmp_path / 'events.sqlite3'}", webhooks=webhooks,
    )


@pytest.fixture
async def client(kit: StripeKit) -> Iterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(kit))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as test_client:
        yield test_client
    await kit.aclose()


async def deliver(client: httpx.AsyncClient, event_type: str, obj: dict, event_id: str) -> int:
    body, headers = signed_event(event_type, obj, secret=SECRET, id=event_id)
    return (await client.post("/stripe/webhook", content=body, headers=headers)).status_code


async def test_the_pricing_page_lists_the_products(client: httpx.AsyncClient) -> None:
    page = await client.get("/stripe/pricing")
    assert page.status_code == 200
    assert 'action="/stripe/checkout"' in page.text


async def test_checkout_creates_a_stripe_session(client: httpx.AsyncClient) -> None:
    answer = await client.post("/stripe/checkout", json={"product": "{{ first }}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"].startswith("cs_test_")


async def test_a_paid_checkout_is_fulfilled_once(client: httpx.AsyncClient) -> None:
    session = {
        "id": "cs_test_order", "object": "checkout.session", "amount_total": 1900,
        "currency": "{{ cookiecutter.currency | lower }}", "customer_email": "ada@example.com",
        "metadata": {"stripekit_product": "{{ first }}"},
    }
    assert await deliver(client, "checkout.session.completed", session, "evt_order") == 200
    assert await deliver(client, "checkout.session.completed", session, "evt_order") == 200
    orders = db.read("SELECT * FROM orders")
    assert [(o["session_id"], o["email"]) for o in orders] == [("cs_test_order", "ada@example.com")]
{%- if cookiecutter.credits_product %}


async def test_credits_are_added_to_the_balance(client: httpx.AsyncClient) -> None:
    session = {
        "id": "cs_test_credits", "object": "checkout.session", "amount_total": 1800,
        "customer_email": "ada@example.com", "metadata": {"stripekit_product": "credits"},
    }
    await deliver(client, "checkout.session.completed", session, "evt_credits")
    assert db.read("SELECT balance FROM credits WHERE email = ?", ("ada@example.com",))[0][0] == 200
{%- endif %}


async def test_subscription_status_follows_stripe(client: httpx.AsyncClient) -> None:
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active"}
    await deliver(client, "customer.subscription.created", sub, "evt_sub_1")
    await deliver(client, "customer.subscription.updated", {**sub, "status": "past_due"}, "evt_sub_2")
    invoice = {"id": "in_1", "object": "invoice", "parent": {"subscription_details": {"subscription": "sub_1"}}}
    await deliver(client, "invoice.payment_failed", invoice, "evt_inv")
    (row,) = db.read("SELECT status, last_invoice FROM subscriptions")
    assert tuple(row) == ("past_due", "payment_failed")
{%- if cookiecutter.account_page %}


async def test_the_account_page_shows_orders(client: httpx.AsyncClient) -> None:
    session = {"id": "cs_test_acc", "object": "checkout.session", "customer_email": "b@e.c",
               "metadata": {"stripekit_product": "{{ first }}"}, "amount_total": 1900}
    await deliver(client, "checkout.session.completed", session, "evt_acc")
    page = await client.get("/account")
    assert "cs_test_acc" in page.text
{%- endif %}
{%- else %}
from django.test import Client

from shop.models import CreditBalance, Order, Subscription


@pytest.fixture
def shop(stripe_emulator: Any, settings: Any) -> Any:
    import stripe
    from stripekit import Catalog, apply_sync, plan_sync, read_account
    from stripekit_django.conf import reset_kit

    from {{ cookiecutter.project_slug }} import ROOT

    settings.STRIPEKIT = {
        **settings.STRIPEKIT, "SECRET_KEY": "sk_test_x", "WEBHOOK_SECRET": SECRET,
        "API_BASE": stripe_emulator.api_base, "BASE_URL": "http://testserver",
    }
    reset_kit()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_emulator.api_base})
    catalog = Catalog.load(ROOT / "products.toml")
    apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
    yield
    reset_kit()


def deliver(client: Client, event_type: str, obj: dict, event_id: str) -> int:
    body, headers = signed_event(event_type, obj, secret=SECRET, id=event_id)
    answer = client.post("/stripe/webhook", body, content_type="application/json",
                         headers={"Stripe-Signature": headers["Stripe-Signature"]})
    return answer.status_code


pytestmark = pytest.mark.django_db(transaction=True)


def test_the_pricing_page_lists_the_products(shop: Any, client: Client) -> None:
    page = client.get("/stripe/pricing")
    assert page.status_code == 200
    assert 'action="/stripe/checkout"' in page.content.decode()


def test_checkout_creates_a_stripe_session(shop: Any, client: Client) -> None:
    answer = client.post("/stripe/checkout", {"product": "{{ first }}"})
    assert answer.status_code == 303
    assert "/c/pay/cs_test_" in answer["Location"]


def test_a_paid_checkout_is_fulfilled_once(shop: Any, client: Client) -> None:
    session = {
        "id": "cs_test_order", "object": "checkout.session", "amount_total": 1900,
        "customer_email": "ada@example.com", "metadata": {"stripekit_product": "{{ first }}"},
    }
    assert deliver(client, "checkout.session.completed", session, "evt_order") == 200
    assert deliver(client, "checkout.session.completed", session, "evt_order") == 200
    assert list(Order.objects.values_list("session_id", "email")) == [("cs_test_order", "ada@example.com")]
{%- if cookiecutter.credits_product %}


def test_credits_are_added_to_the_balance(shop: Any, client: Client) -> None:
    session = {
        "id": "cs_test_credits", "object": "checkout.session", "amount_total": 1800,
        "customer_email": "ada@example.com", "metadata": {"stripekit_product": "credits"},
    }
    deliver(client, "checkout.session.completed", session, "evt_credits")
    assert CreditBalance.objects.get(email="ada@example.com").balance == 200
{%- endif %}


def test_subscription_status_follows_stripe(shop: Any, client: Client) -> None:
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active"}
    deliver(client, "customer.subscription.created", sub, "evt_sub_1")
    deliver(client, "customer.subscription.updated", {**sub, "status": "past_due"}, "evt_sub_2")
    invoice = {"id": "in_1", "object": "invoice", "parent": {"subscription_details": {"subscription": "sub_1"}}}
    deliver(client, "invoice.payment_failed", invoice, "evt_inv")
    row = Subscription.objects.get(id="sub_1")
    assert (row.status, row.last_invoice) == ("past_due", "payment_failed")
{%- if cookiecutter.account_page %}


def test_the_account_page_shows_orders(shop: Any, client: Client) -> None:
    session = {"id": "cs_test_acc", "object": "checkout.session", "customer_email": "b@e.c",
               "metadata": {"stripekit_product": "{{ first }}"}, "amount_total": 1900}
    deliver(client, "checkout.session.completed", session, "evt_acc")
    assert "cs_test_acc" in client.get("/account").content.decode()
{%- endif %}
{%- endif %}
