"""Every route, on FastAPI and on plain Starlette, JSON and form, with the emulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from fastapi import Request
from fastapi_shop import Orders, asgi_client, fastapi_app, make_kit, starlette_app

from stripekit import StripeKit
from stripekit.emulator import RunningEmulator

ADA = {"x-user": "ada"}


def emulator_client(emulator: RunningEmulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})


async def test_pricing_page_lists_products_with_buy_buttons(client: httpx.AsyncClient) -> None:
    page = await client.get("/stripe/pricing")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Pro" in html and "$15.00" in html and "/ month" in html and "14-day free trial" in html
    assert "The Book" in html and "€19.00" in html
    assert html.count('action="/stripe/checkout"') == 2
    assert 'name="quantity"' in html and 'max="3"' in html  # only the book allows several
    assert "<script" not in html and "http" not in html.split("<body>")[0].replace("http-equiv", "")


async def test_checkout_by_json_answers_id_and_url(
    client: httpx.AsyncClient, stripe_emulator: RunningEmulator
) -> None:
    answer = await client.post(
        "/stripe/checkout", json={"product": "book", "quantity": 2}, headers=ADA
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"id", "url"}
    session = emulator_client(stripe_emulator).v1.checkout.sessions.retrieve(
        body["id"], {"expand": ["line_items"]}
    )
    assert body["url"] == session.url
    assert session.amount_total == 3800  # from the catalog, never the browser
    assert session.client_reference_id == "ada"
    assert session.customer_email == "ada@example.com"
    assert session.metadata["plan_source"] == "pricing"
    assert session.line_items is not None and session.line_items.data[0].quantity == 2


async def test_checkout_by_form_redirects_to_checkout(
    client: httpx.AsyncClient, stripe_emulator: RunningEmulator
) -> None:
    answer = await client.post("/stripe/checkout", data={"product": "pro", "price": "monthly"})
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"{stripe_emulator.url}/c/pay/cs_test_")
    session_id = location.rsplit("/", 1)[1]
    session = emulator_client(stripe_emulator).v1.checkout.sessions.retrieve(session_id)
    assert session.mode == "subscription"
    assert session.client_reference_id is None  # anonymous: no buyer supplied


async def test_a_form_post_asking_for_json_gets_json(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/stripe/checkout", data={"product": "book"}, headers={"accept": "application/json"}
    )
    assert answer.status_code == 200
    assert answer.json()["id"].startswith("cs_test_")


async def test_a_price_in_the_request_cannot_change_the_amount(
    client: httpx.AsyncClient, stripe_emulator: RunningEmulator
) -> None:
    answer = await client.post(
        "/stripe/checkout", json={"product": "book", "amount": 1, "unit_amount": 1}
    )
    session_id = answer.json()["id"]
    session = emulator_client(stripe_emulator).v1.checkout.sessions.retrieve(session_id)
    assert session.amount_total == 1900


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"product": "platinum"}, 404, "unknown product 'platinum'"),
        ({"product": "pro", "price": "weekly"}, 404, "weekly"),
        ({"product": "book", "quantity": 4}, 422, "from 1 to 3"),
        ({"product": "book", "quantity": 0}, 422, "from 1 to 3"),
        ({"product": "book", "quantity": "two"}, 422, "'two'"),
        ({"product": "book", "quantity": 1.5}, 422, "1.5"),
        ({}, 400, "give 'product'"),
    ],
)
async def test_bad_checkout_requests_json_and_html(
    client: httpx.AsyncClient, body: dict[str, object], status: int, says: str
) -> None:
    as_json = await client.post("/stripe/checkout", json=body)
    assert as_json.status_code == status
    assert says in as_json.json()["error"]
    form = {k: str(v) for k, v in body.items()}
    as_page = await client.post("/stripe/checkout", data=form)
    assert as_page.status_code == status
    assert as_page.headers["content-type"].startswith("text/html")
    assert 'href="/stripe/pricing"' in as_page.text


async def test_a_body_that_is_not_json(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/stripe/checkout", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert "not valid JSON" in answer.json()["error"]


async def test_a_stripe_error_is_a_502_without_traceback_or_secret(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await client.post(
        "/stripe/checkout", json={"product": "book"}, headers={**ADA, "x-customer": "cus_gone"}
    )
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert "No such customer" in error
    assert "Traceback" not in answer.text and "sk_test_fastapi_shop" not in answer.text
    logged = [r.getMessage() for r in caplog.records if r.name == "stripekit.fastapi"]
    assert any("request req_" in line for line in logged)


async def test_success_reads_the_session_from_stripe(
    client: httpx.AsyncClient, stripe_emulator: RunningEmulator
) -> None:
    session = (
        await client.post("/stripe/checkout", json={"product": "book", "quantity": 2})
    ).json()
    unpaid = await client.get("/stripe/success", params={"session_id": session["id"]})
    assert unpaid.status_code == 200
    assert "Payment pending" in unpaid.text and 'id="status">unpaid' in unpaid.text
    httpx.post(session["url"], data={"card_number": "4242424242424242", "email": "a@b.c"})
    paid = await client.get("/stripe/success", params={"session_id": session["id"]})
    assert paid.status_code == 200
    assert 'id="status">paid' in paid.text
    assert re.search("The Book \u00d7 2", paid.text)
    assert "€38.00" in paid.text


@pytest.mark.parametrize(
    "query", ["", "?session_id=", "?session_id=cs_test_nope", "?session_id=<x>"]
)
async def test_success_with_a_bad_id_is_a_404_page(client: httpx.AsyncClient, query: str) -> None:
    page = await client.get(f"/stripe/success{query}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Traceback" not in page.text and "<x>" not in page.text


async def test_cancel_page_leads_back_to_pricing(client: httpx.AsyncClient) -> None:
    page = await client.get("/stripe/cancel")
    assert page.status_code == 200
    assert "Checkout canceled" in page.text
    assert 'href="/stripe/pricing"' in page.text


async def test_portal_redirects_the_current_customer(
    client: httpx.AsyncClient, stripe_emulator: RunningEmulator
) -> None:
    customer = emulator_client(stripe_emulator).v1.customers.create({"email": "ada@example.com"})
    headers = {**ADA, "x-customer": customer.id}
    answer = await client.post("/stripe/portal", headers=headers)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{stripe_emulator.url}/p/session/bps_")
    as_json = await client.post("/stripe/portal", headers={**headers, "accept": "application/json"})
    assert as_json.json()["url"].startswith(stripe_emulator.url)
    anonymous = await client.post("/stripe/portal")
    assert anonymous.status_code == 401
    assert "sign in first" in anonymous.text


async def test_products_and_config_json(client: httpx.AsyncClient) -> None:
    products = (await client.get("/stripe/products")).json()
    assert [p["key"] for p in products] == ["pro", "book"]
    assert products[0]["prices"][0] == {
        "key": "monthly",
        "amount": "$15.00",
        "interval": "month",
        "interval_count": 1,
        "trial_days": 14,
    }
    config = (await client.get("/stripe/config")).json()
    assert config == {"publishable_key": "pk_test_fastapi_shop", "mode": "test"}


async def test_templates_are_overridden_by_the_apps_own(
    kit: StripeKit, make_app: object, tmp_path: object
) -> None:
    from pathlib import Path

    templates = Path(str(tmp_path)) / "templates"
    (templates / "stripekit").mkdir(parents=True)
    (templates / "stripekit" / "cancel.html").write_text(
        '{% extends "stripekit/base.html" %}{% block content %}Come back soon{% endblock %}'
    )
    app = make_app(kit, templates=[templates], shop_name="Ada's Books")  # type: ignore[operator]
    async with asgi_client(app) as test_client:
        page = await test_client.get("/stripe/cancel")
        assert "Come back soon" in page.text
        assert "Ada&#39;s Books" in page.text  # the shipped base still frames it, escaped
        assert "Pricing" in (await test_client.get("/stripe/pricing")).text  # others unchanged
    await kit.aclose()


async def test_a_form_posted_from_another_site_is_refused(client: httpx.AsyncClient) -> None:
    evil = {"origin": "https://evil.example"}
    refused = await client.post("/stripe/checkout", data={"product": "book"}, headers=evil)
    assert refused.status_code == 403
    assert "only be posted from this site" in refused.text
    portal = await client.post("/stripe/portal", headers={**evil, **ADA, "x-customer": "cus_1"})
    assert portal.status_code == 403
    same_site = await client.post(
        "/stripe/checkout", data={"product": "book"}, headers={"origin": "http://shop.test"}
    )
    assert same_site.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},  # no Origin: still a browser, and it says where from
        {"sec-fetch-site": "same-site"},
        {"referer": "https://evil.example/page"},
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
    ],
)
async def test_fetch_metadata_and_referer_refuse_a_cross_site_post(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    refused = await client.post("/stripe/checkout", data={"product": "book"}, headers=headers)
    assert refused.status_code == 403
    as_json = await client.post(
        "/stripe/checkout",
        json={"product": "book"},
        headers={**headers, "accept": "application/json"},
    )
    assert as_json.status_code == 403 and "only be posted from this site" in as_json.json()["error"]


async def test_same_origin_posts_and_non_browsers_pass(client: httpx.AsyncClient) -> None:
    for headers in (
        {"sec-fetch-site": "same-origin", "origin": "http://shop.test"},
        {"sec-fetch-site": "none"},
        {"referer": "http://shop.test/stripe/pricing"},
        {},
    ):
        answer = await client.post("/stripe/checkout", data={"product": "book"}, headers=headers)
        assert answer.status_code == 303, headers


async def test_trusted_origins_may_post(
    stripe_emulator: RunningEmulator, tmp_path: Path, make_app: Any
) -> None:
    kit = make_kit(stripe_emulator, tmp_path, Orders(), trusted_origins="https://www.shop.test")
    async with asgi_client(make_app(kit)) as test_client:
        trusted = {"sec-fetch-site": "cross-site", "origin": "https://www.shop.test"}
        answer = await test_client.post(
            "/stripe/checkout", data={"product": "book"}, headers=trusted
        )
        assert answer.status_code == 303
        other = {"sec-fetch-site": "cross-site", "origin": "https://evil.test"}
        answer = await test_client.post("/stripe/checkout", data={"product": "book"}, headers=other)
        assert answer.status_code == 403
    await kit.aclose()


async def test_an_apps_csrf_field_goes_into_the_shops_forms(kit: StripeKit, make_app: Any) -> None:
    def field(request: Any) -> str:
        return f'<input type="hidden" name="csrf" value="tok-{request.url.path}">'

    async with asgi_client(make_app(kit, csrf_input=field)) as test_client:
        page = (await test_client.get("/stripe/pricing")).text
    assert page.count('name="csrf" value="tok-/stripe/pricing"') == page.count("<form")
    assert page.count("<form") >= 2


async def test_an_async_connected_account_resolver_is_awaited(
    kit: StripeKit, stripe_emulator: RunningEmulator
) -> None:
    """Starlette's routes and FastAPI's dependency both take an async resolver; its answer
    (not a coroutine, which would be a configuration error) picks the account."""
    seller = stripe_emulator.create_account()
    apply_sync_in(stripe_emulator, kit, seller)

    async def storefront(request: Request) -> str | None:
        return seller if request.url.hostname == "seller.test" else None

    for make in (fastapi_app, starlette_app):
        async with asgi_client(make(kit, connected_account=storefront)) as client:
            made = await client.post("http://seller.test/stripe/checkout", json={"product": "book"})
            assert made.status_code == 200, made.text
            emulator = emulator_client(stripe_emulator)
            session = emulator.v1.checkout.sessions.retrieve(
                made.json()["id"], None, {"stripe_account": seller}
            )
            assert session.amount_total == 1900
            platform = await client.post("/stripe/checkout", json={"product": "book"})
            assert platform.status_code == 200
            assert (
                emulator.v1.checkout.sessions.retrieve(platform.json()["id"]).amount_total == 1900
            )
    await kit.aclose()


def apply_sync_in(emulator: RunningEmulator, kit: StripeKit, account: str) -> None:
    """The catalog's products and prices made in a connected account too."""
    from stripekit import apply_sync, plan_sync, read_account

    client = emulator_client(emulator)
    state = read_account(client, kit.catalog, stripe_account=account)
    apply_sync(client, plan_sync(kit.catalog, state))
