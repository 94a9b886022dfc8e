"""The webhook route (once per event, retried on failure, refusals) and the OpenAPI schema."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import stripe
from fastapi_shop import WEBHOOK_SECRET, Orders, fastapi_app, make_kit

from stripekit import StripeKit
from stripekit._serving import free_port, serve_in_thread
from stripekit.emulator import RunningEmulator
from stripekit.testing import signed_event


async def test_a_signed_event_is_processed_once(client: httpx.AsyncClient, orders: Orders) -> None:
    session = {"id": "cs_test_hook", "object": "checkout.session"}
    body, headers = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    first = await client.post("/stripe/webhook", content=body, headers=headers)
    again = await client.post("/stripe/webhook", content=body, headers=headers)
    assert (first.status_code, first.json()["status"]) == (200, "processed")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert orders.fulfilled == ["cs_test_hook"]


async def test_a_failing_handler_answers_500_then_succeeds_on_redelivery(
    client: httpx.AsyncClient, orders: Orders
) -> None:
    orders.fail_next = 1
    body, headers = signed_event(
        "checkout.session.completed",
        {"id": "cs_test_retry", "object": "checkout.session"},
        secret=WEBHOOK_SECRET,
    )
    failed = await client.post("/stripe/webhook", content=body, headers=headers)
    assert failed.status_code == 500
    assert failed.json() == {"status": "failed", "event": failed.json()["event"]}
    assert "warehouse" not in failed.text  # the error is in the store, not the response
    retried = await client.post("/stripe/webhook", content=body, headers=headers)
    assert retried.status_code == 200
    assert orders.fulfilled == ["cs_test_retry"]


async def test_refusals(client: httpx.AsyncClient, kit: StripeKit) -> None:
    body, headers = signed_event("invoice.paid", secret="whsec_someone_else")
    forged = await client.post("/stripe/webhook", content=body, headers=headers)
    assert forged.status_code == 400
    unsigned = await client.post("/stripe/webhook", content=body)
    assert unsigned.status_code == 400
    big = b"{" + b" " * kit.settings.webhook_max_bytes + b"}"
    too_big = await client.post("/stripe/webhook", content=big, headers=headers)
    assert too_big.status_code == 413
    assert kit.store.list() == []  # nothing refused was recorded


async def test_an_unhandled_type_is_acknowledged(client: httpx.AsyncClient) -> None:
    body, headers = signed_event("product.created", secret=WEBHOOK_SECRET)
    answer = await client.post("/stripe/webhook", content=body, headers=headers)
    assert (answer.status_code, answer.json()["status"]) == (200, "unhandled")


def test_openapi_documents_every_route(kit: StripeKit) -> None:
    schema = fastapi_app(kit).openapi()
    paths = schema["paths"]
    assert set(paths) == {
        f"/stripe/{name}"
        for name in (
            "checkout",
            "success",
            "cancel",
            "pricing",
            "portal",
            "products",
            "config",
            "webhook",
            "health",
            "metrics",
            "account",
            "account/cancel",
            "account/resume",
            "account/change-plan",
            "account/preview-change",
            "account/retry",
            "checkout/embedded",
            "checkout/return",
            "pay",
            "pay/intent",
            "pay/return",
        )
    }
    # What makes a client secret takes a product and a quantity, never an amount.
    for path in ("/stripe/checkout/embedded", "/stripe/pay/intent"):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert set(body["properties"]) == {"product", "price", "quantity"}
        assert "ClientSecretOut" in json.dumps(paths[path]["post"]["responses"]["200"])
    change = paths["/stripe/account/change-plan"]["post"]["requestBody"]["content"]
    fields = change["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert set(fields) == {"subscription", "plan", "quote"}  # never a price or a proration
    checkout = paths["/stripe/checkout"]["post"]
    content = checkout["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(content)
    assert content["application/json"]["schema"]["required"] == ["product"]
    assert {"200", "303", "404", "422", "502"} <= set(checkout["responses"])
    webhook = paths["/stripe/webhook"]["post"]
    assert {"200", "400", "413", "500"} <= set(webhook["responses"])
    assert any(p["name"] == "Stripe-Signature" for p in webhook["parameters"])
    success = paths["/stripe/success"]["get"]
    assert [p["name"] for p in success["parameters"]] == ["session_id"]
    assert "ProductOut" in schema["components"]["schemas"]


def test_the_whole_loop_over_http_with_the_emulator(
    stripe_emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Checkout → pay on the emulator's page → signed webhook → handler → success page."""
    orders = Orders()
    kit = make_kit(stripe_emulator, tmp_path, orders)
    with serve_in_thread(fastapi_app(kit), "127.0.0.1", free_port()) as url:
        stripe_emulator.add_webhook_endpoint(f"{url}/stripe/webhook", secret=WEBHOOK_SECRET)
        with httpx.Client(base_url=url) as browser:
            to_checkout = browser.post(
                "/stripe/checkout", data={"product": "book", "quantity": "2"}
            )
            assert to_checkout.status_code == 303
            pay_url = to_checkout.headers["location"]
            paid = httpx.post(pay_url, data={"card_number": "4242424242424242", "email": "a@b.c"})
            assert paid.status_code == 303
            success_url = paid.headers["location"]
            assert success_url.startswith("http://shop.test/stripe/success?session_id=cs_test_")
            stripe_emulator.wait_for_deliveries()
            session_id = success_url.rsplit("=", 1)[1]
            assert orders.fulfilled == [session_id]
            page = browser.get(f"/stripe/success?session_id={session_id}")
            assert 'id="status">paid' in page.text
    assert all(d.ok for d in stripe_emulator.deliveries)
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_emulator.api_base})
    assert client.v1.checkout.sessions.retrieve(session_id).payment_status == "paid"


async def test_router_dependencies_guard_the_pages_but_not_the_webhook(kit: StripeKit) -> None:
    from fastapi import Depends, FastAPI, HTTPException

    from stripekit_fastapi import stripekit_router

    def staff_only() -> None:
        raise HTTPException(401, "staff only")

    app = FastAPI()
    app.include_router(stripekit_router(kit), prefix="/stripe", dependencies=[Depends(staff_only)])
    body, headers = signed_event("product.created", secret=WEBHOOK_SECRET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
    ) as client:
        assert (await client.get("/stripe/products")).status_code == 401
        # Stripe cannot pass the app's own checks: its signature is the webhook's.
        answer = await client.post("/stripe/webhook", content=body, headers=headers)
    assert (answer.status_code, answer.json()["status"]) == (200, "unhandled")
