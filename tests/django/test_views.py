"""Every route, JSON and form; CSRF on checkout and not on the webhook; errors."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import stripe
from django.test import Client

from stripekit.emulator import RunningEmulator
from stripekit.testing import signed_event

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_django_shop"


def emulator_client(emulator: RunningEmulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})


def test_pricing_page_has_csrf_protected_buy_forms(stripekit_settings: Any, client: Client) -> None:
    page = client.get("/stripe/pricing")
    assert page.status_code == 200
    html = page.content.decode()
    assert "The Book" in html and "€19.00" in html and "$15.00" in html
    assert html.count('action="/stripe/checkout"') == 2
    assert html.count('name="csrfmiddlewaretoken"') == 2
    assert "Django shop" in html


def test_checkout_form_needs_the_csrf_token(
    stripekit_settings: Any, stripe_emulator: RunningEmulator
) -> None:
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/stripe/checkout", {"product": "book"})
    assert refused.status_code == 403
    page = browser.get("/stripe/pricing").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]  # type: ignore[index]
    answer = browser.post(
        "/stripe/checkout", {"product": "book", "quantity": "2", "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 303
    assert answer["Location"].startswith(f"{stripe_emulator.url}/c/pay/cs_test_")


def test_checkout_json_answers_id_and_url(
    stripekit_settings: Any,
    client: Client,
    stripe_emulator: RunningEmulator,
    django_user_model: Any,
) -> None:
    user = django_user_model.objects.create_user("ada", email="ada@example.com", password="x")
    client.force_login(user)
    answer = client.post("/stripe/checkout", {"product": "book"}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    session = emulator_client(stripe_emulator).v1.checkout.sessions.retrieve(body["id"])
    assert session.url == body["url"]
    assert session.amount_total == 1900
    assert session.client_reference_id == str(user.pk)  # the default buyer: request.user
    assert session.customer_email == "ada@example.com"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"product": "platinum"}, 404, "unknown product"),
        ({"product": "book", "quantity": 9}, 422, "from 1 to 3"),
        ({"product": "book", "quantity": "x"}, 422, "'x'"),
        ({}, 400, "give 'product'"),
    ],
)
def test_bad_checkouts(
    stripekit_settings: Any, client: Client, body: dict[str, Any], status: int, says: str
) -> None:
    as_json = client.post("/stripe/checkout", body, content_type="application/json")
    assert as_json.status_code == status
    assert says in as_json.json()["error"]
    as_page = client.post("/stripe/checkout", {k: str(v) for k, v in body.items()})
    assert as_page.status_code == status
    assert "Back to pricing" in as_page.content.decode()


def test_success_reads_the_session(
    stripekit_settings: Any, client: Client, stripe_emulator: RunningEmulator
) -> None:
    body = client.post(
        "/stripe/checkout", {"product": "book"}, content_type="application/json"
    ).json()
    assert (
        "Payment pending" in client.get(f"/stripe/success?session_id={body['id']}").content.decode()
    )
    httpx.post(body["url"], data={"card_number": "4242424242424242", "email": "a@b.c"})
    page = client.get(f"/stripe/success?session_id={body['id']}").content.decode()
    assert 'id="status">paid' in page and "€19.00" in page
    assert client.get("/stripe/success?session_id=cs_test_nope").status_code == 404
    assert client.get("/stripe/success").status_code == 404


def test_cancel_products_config_and_portal(
    stripekit_settings: Any, client: Client, settings: Any, stripe_emulator: RunningEmulator
) -> None:
    assert "Back to pricing" in client.get("/stripe/cancel").content.decode()
    assert [p["key"] for p in client.get("/stripe/products").json()] == ["book", "pro"]
    assert client.get("/stripe/config").json() == {
        "publishable_key": "pk_test_django_shop",
        "mode": "test",
    }
    assert client.post("/stripe/portal").status_code == 401
    customer = emulator_client(stripe_emulator).v1.customers.create({"email": "a@b.c"})
    settings.STRIPEKIT = {
        **stripekit_settings,
        "BUYER": lambda request: __import__("stripekit").Buyer(customer=customer.id),
    }
    answer = client.post("/stripe/portal")
    assert answer.status_code == 303
    assert answer["Location"].startswith(f"{stripe_emulator.url}/p/session/bps_")


def test_the_webhook_needs_no_csrf_token_but_a_signature(stripekit_settings: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    body, headers = signed_event("product.created", secret=WEBHOOK_SECRET)
    answer = browser.post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )  # fmt: skip
    assert (answer.status_code, answer.json()["status"]) == (200, "unhandled")
    forged = browser.post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )  # fmt: skip
    assert forged.status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"id": "evt_\\ud800", "object": "event", "type": "invoice.paid",'
            b' "created": 1700000000, "data": {"object": {}}}',
            "lone surrogate",
        ),
        (
            b'{"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1e300,'
            b' "data": {"object": {}}}',
            "not a timestamp",
        ),
        (
            # 100,000 levels: past the parser's limit on 3.11 to 3.13 (3.13 parses 5,000).
            b'{"id": "evt_2", "object": "event", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "nests",
        ),
    ],
)
def test_a_signed_payload_no_store_can_keep_is_a_400(
    stripekit_settings: Any, body: bytes, message: str
) -> None:
    from stripekit.testing import sign_payload

    answer = Client().post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": sign_payload(body, WEBHOOK_SECRET)},
    )  # fmt: skip
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_a_project_template_replaces_the_shipped_one(
    stripekit_settings: Any, client: Client, settings: Any, tmp_path: Any
) -> None:
    (tmp_path / "stripekit").mkdir()
    (tmp_path / "stripekit" / "cancel.html").write_text(
        '{% extends "stripekit/base.html" %}{% block content %}Come back soon{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    page = client.get("/stripe/cancel").content.decode()
    assert "Come back soon" in page
    assert "Django shop" in page  # still framed by the shipped layout


def test_a_trial_success_page_says_nothing_is_due_today_and_when_the_first_charge_comes(
    stripekit_settings: Any, client: Client, stripe_emulator: RunningEmulator
) -> None:
    from django.contrib.auth.models import User

    buyer = User.objects.create_user("trialist", "t@b.c")
    client.force_login(buyer)  # the receipt's details are its buyer's alone
    stripe_client = emulator_client(stripe_emulator)
    price = stripe_client.v1.prices.list({"lookup_keys": ["django_pro_monthly"]}).data[0]
    session = stripe_client.v1.checkout.sessions.create({
        "mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}],
        "subscription_data": {"trial_period_days": 14}, "client_reference_id": str(buyer.pk),
        "success_url": "http://testserver/stripe/success?session_id={CHECKOUT_SESSION_ID}",
    })  # fmt: skip
    assert session.url is not None
    httpx.post(session.url, data={"card_number": "4242424242424242", "email": "t@b.c"})
    page = client.get(f"/stripe/success?session_id={session.id}").content.decode()
    assert 'id="status">trial started' in page
    assert '<strong id="total">nothing</strong>' in page
    first = re.search(r'<p id="first-charge">(.*?)</p>', page)
    assert first is not None
    expected = r"Free until \w+ \d{1,2}, \d{4}; then \$15\.00 is charged, and the receipt goes to "
    assert re.fullmatch(expected + r"t@b\.c\.", first[1]), first[1]
    assert "$15.00" not in page.split('<p id="first-charge">')[0]  # nothing priced as due now


def test_health_counts_waiting_events_and_shows_no_ids(
    stripekit_settings: Any, client: Client
) -> None:
    from stripekit import parse_event
    from stripekit_django.conf import get_kit

    kit = get_kit()
    body, _ = signed_event("invoice.paid", secret=WEBHOOK_SECRET, id="evt_dj_health")
    claim = kit.store.claim(parse_event(body), lease=60)
    kit.store.fail("evt_dj_health", claim.token, error="boom")

    answer = client.get("/stripe/health")

    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    assert (answer.json()["store"], answer.json()["failed"]) == ("ok", 1)
    assert b"evt_dj_health" not in answer.content and b"boom" not in answer.content
    assert client.post("/stripe/health").status_code == 405


def test_health_is_503_when_the_store_raises(
    stripekit_settings: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stripekit_django.conf import get_kit
    from stripekit_django.store import DjangoEventStore

    def down(self: Any) -> Any:
        raise ConnectionError("could not connect to db.internal")

    monkeypatch.setattr(DjangoEventStore, "backlog", down)
    get_kit()._store_health.cache_seconds = 0

    answer = client.get("/stripe/health")

    assert (answer.status_code, answer.json()) == (503, {"store": "unavailable"})


def test_metrics_need_the_token(stripekit_settings: Any, client: Client, settings: Any) -> None:
    from stripekit_django.conf import reset_kit

    assert client.get("/stripe/metrics").status_code == 404  # no token: off
    settings.STRIPEKIT = {**stripekit_settings, "METRICS_TOKEN": "django-scrape"}
    reset_kit()
    body, headers = signed_event("invoice.paid", secret=WEBHOOK_SECRET, id="evt_dj_metrics")
    client.post("/stripe/webhook", body, content_type="application/json",
                headers={"Stripe-Signature": headers["Stripe-Signature"]})  # fmt: skip

    stranger = client.get("/stripe/metrics")
    scraper = client.get("/stripe/metrics", headers={"Authorization": "Bearer django-scrape"})

    assert stranger.status_code == 401
    assert scraper.status_code == 200
    assert b'event_type="invoice.paid"' in scraper.content
    assert scraper["Cache-Control"] == "no-store"
