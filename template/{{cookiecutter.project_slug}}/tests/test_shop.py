"""The shop's own tests: they pass out of the box, against stripekit's local Stripe emulator.

A purchase is made as a browser makes it (checkout, then the emulator's payment page),
and the events the emulator recorded are delivered to the shop's webhook, signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from stripekit import Catalog, apply_sync, plan_sync, read_account
from stripekit.testing import sign_payload

SECRET = "whsec_tests"
CARD = {"card_number": "4242424242424242", "email": "ada@example.com"}
{% set first = "starter_kit" if cookiecutter.one_time_product else ("credits" if cookiecutter.credits_product else "pro") %}

def sync_products(emulator: Any) -> None:
    from {{ cookiecutter.project_slug }} import ROOT

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})
    catalog = Catalog.load(ROOT / "products.toml")
    apply_sync(client, plan_sync(catalog, read_account(client, catalog)))


def signed(event: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    return body, sign_payload(body, SECRET)
{%- if cookiecutter.framework == "fastapi" %}


from stripekit import StripeKit

from {{ cookiecutter.project_slug }} import ROOT
from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.handlers import webhooks


@pytest.fixture
def kit(stripe_emulator: Any, tmp_path: Path) -> StripeKit:
    sync_products(stripe_emulator)
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


async def sign_in(client: httpx.AsyncClient, email: str = "ada@example.com") -> None:
    answer = await client.post("/signin", data={"email": email})
    assert answer.status_code == 303


async def buy(client: httpx.AsyncClient, emulator: Any, product: str, quantity: int = 1) -> str:
    """Checkout, pay on the emulator's page, then the shop receives what Stripe sent."""
    start = len(emulator.events())
    answer = await client.post("/stripe/checkout", json={"product": product, "quantity": quantity})
    assert answer.status_code == 200, answer.text
    paid = httpx.post(answer.json()["url"], data=CARD)
    assert paid.status_code == 303, paid.text
    for event in emulator.events()[start:]:
        body, signature = signed(event)
        delivered = await client.post(
            "/stripe/webhook", content=body, headers={"Stripe-Signature": signature}
        )
        assert delivered.status_code == 200, delivered.text
    return str(answer.json()["id"])


async def account(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/stripe/account", headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_pricing_page_lists_the_products(client: httpx.AsyncClient) -> None:
    page = await client.get("/stripe/pricing")
    assert page.status_code == 200
    assert 'action="/stripe/checkout"' in page.text


async def test_an_anonymous_checkout_creates_a_stripe_session(client: httpx.AsyncClient) -> None:
    answer = await client.post("/stripe/checkout", json={"product": "{{ first }}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"].startswith("cs_test_")


async def test_the_account_page_asks_to_sign_in(client: httpx.AsyncClient) -> None:
    assert (await client.get("/stripe/account")).status_code == 401
    await sign_in(client)
    page = await client.get("/stripe/account")
    assert page.status_code == 200 and "ada@example.com" in page.text


async def test_a_purchase_shows_on_the_account_page(
    client: httpx.AsyncClient, stripe_emulator: Any
) -> None:
    await sign_in(client)
    session = await buy(client, stripe_emulator, "{{ first }}")
    (purchase,) = (await account(client))["purchases"] or [None]
{%- if cookiecutter.subscription_product and not cookiecutter.one_time_product and not cookiecutter.credits_product %}
    assert purchase is None  # a subscription, not a purchase
    assert (await account(client))["subscriptions"][0]["status"] == "trialing"
{%- else %}
    assert purchase["id"] == session and purchase["status"] == "paid"
{%- endif %}
    # Another user sees none of it.
    await sign_in(client, "bob@example.com")
    assert (await account(client))["purchases"] == []
{%- if cookiecutter.credits_product %}


async def test_credits_packs_grant_credits_once(
    client: httpx.AsyncClient, stripe_emulator: Any, kit: StripeKit
) -> None:
    await sign_in(client)
    await buy(client, stripe_emulator, "credits", quantity=2)
    assert (await account(client))["credits"] == 200
    for event in stripe_emulator.events()[-5:]:  # Stripe delivers again: nothing more
        body, signature = signed(event)
        await client.post("/stripe/webhook", content=body, headers={"Stripe-Signature": signature})
    assert kit.billing.credits.balance("ada@example.com") == 200
{%- endif %}
{%- if cookiecutter.subscription_product %}


async def test_a_subscription_is_cancelled_at_period_end_from_the_account_page(
    client: httpx.AsyncClient, stripe_emulator: Any
) -> None:
    await sign_in(client)
    await buy(client, stripe_emulator, "pro")
    (sub,) = (await account(client))["subscriptions"]
    assert sub["status"] == "trialing" and sub["trial_ends"]
    answer = await client.post("/stripe/account/cancel", data={"subscription": sub["id"]})
    assert answer.status_code == 303
    (sub,) = (await account(client))["subscriptions"]
    assert sub["cancel_scheduled"] and sub["ends_on"]
{%- endif %}
{%- else %}


from django.contrib.auth import get_user_model
from django.test import Client
from stripekit_django.conf import get_kit, reset_kit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(stripe_emulator: Any, settings: Any) -> Iterator[None]:
    settings.STRIPEKIT = {
        **settings.STRIPEKIT, "SECRET_KEY": "sk_test_x", "WEBHOOK_SECRET": SECRET,
        "API_BASE": stripe_emulator.api_base, "BASE_URL": "http://testserver",
    }
    reset_kit()
    sync_products(stripe_emulator)
    yield
    reset_kit()


def sign_in(client: Client, username: str = "ada") -> Any:
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw-tests")
    client.force_login(user)
    return user


def buy(client: Client, emulator: Any, product: str, quantity: int = 1) -> str:
    """Checkout, pay on the emulator's page, then the shop receives what Stripe sent."""
    start = len(emulator.events())
    answer = client.post(
        "/stripe/checkout", json.dumps({"product": product, "quantity": quantity}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    paid = httpx.post(answer.json()["url"], data=CARD)
    assert paid.status_code == 303, paid.text
    for event in emulator.events()[start:]:
        body, signature = signed(event)
        delivered = client.post(
            "/stripe/webhook", body, content_type="application/json",
            headers={"Stripe-Signature": signature},
        )
        assert delivered.status_code == 200, delivered.content
    return str(answer.json()["id"])


def account(client: Client) -> dict[str, Any]:
    answer = client.get("/stripe/account", headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_pricing_page_lists_the_products(shop: Any, client: Client) -> None:
    page = client.get("/stripe/pricing")
    assert page.status_code == 200
    assert 'action="/stripe/checkout"' in page.content.decode()


def test_an_anonymous_checkout_creates_a_stripe_session(shop: Any, client: Client) -> None:
    answer = client.post("/stripe/checkout", {"product": "{{ first }}"})
    assert answer.status_code == 303
    assert "/c/pay/cs_test_" in answer["Location"]


def test_the_account_page_asks_to_sign_in(shop: Any, client: Client) -> None:
    assert client.get("/stripe/account").status_code == 401
    sign_in(client)
    page = client.get("/stripe/account")
    assert page.status_code == 200 and "ada" in page.content.decode()


def test_a_purchase_shows_on_the_account_page(
    shop: Any, client: Client, stripe_emulator: Any
) -> None:
    sign_in(client)
    session = buy(client, stripe_emulator, "{{ first }}")
    (purchase,) = account(client)["purchases"] or [None]
{%- if cookiecutter.subscription_product and not cookiecutter.one_time_product and not cookiecutter.credits_product %}
    assert purchase is None  # a subscription, not a purchase
    assert account(client)["subscriptions"][0]["status"] == "trialing"
{%- else %}
    assert purchase["id"] == session and purchase["status"] == "paid"
{%- endif %}
    # Another user sees none of it.
    sign_in(client, "bob")
    assert account(client)["purchases"] == []
{%- if cookiecutter.credits_product %}


def test_credits_packs_grant_credits_once(
    shop: Any, client: Client, stripe_emulator: Any
) -> None:
    user = sign_in(client)
    buy(client, stripe_emulator, "credits", quantity=2)
    assert account(client)["credits"] == 200
    for event in stripe_emulator.events()[-5:]:  # Stripe delivers again: nothing more
        body, signature = signed(event)
        client.post("/stripe/webhook", body, content_type="application/json",
                    headers={"Stripe-Signature": signature})
    assert get_kit().billing.credits.balance(str(user.pk)) == 200
{%- endif %}
{%- if cookiecutter.subscription_product %}


def test_a_subscription_is_cancelled_at_period_end_from_the_account_page(
    shop: Any, client: Client, stripe_emulator: Any
) -> None:
    sign_in(client)
    buy(client, stripe_emulator, "pro")
    (sub,) = account(client)["subscriptions"]
    assert sub["status"] == "trialing" and sub["trial_ends"]
    answer = client.post("/stripe/account/cancel", {"subscription": sub["id"]})
    assert answer.status_code == 303
    (sub,) = account(client)["subscriptions"]
    assert sub["cancel_scheduled"] and sub["ends_on"]
{%- endif %}
{%- endif %}
