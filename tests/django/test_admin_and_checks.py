"""The admin's event log and replay action; the system checks, one by one."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings
from shop.models import Order

from stripekit import EventStatus
from stripekit.testing import signed_event
from stripekit_django import get_kit

SECRET = "whsec_django_shop"


@pytest.mark.django_db(transaction=True)
def test_admin_lists_shows_and_replays_a_failed_event(
    stripekit_settings: Any, admin_client: Client
) -> None:
    session = {"id": "cs_test_adm", "object": "checkout.session", "customer_email": "fail@x.y"}
    body, headers = signed_event("checkout.session.completed", session, secret=SECRET, id="evt_adm")
    Client().post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )  # fmt: skip
    listing = admin_client.get("/admin/stripekit/webhookevent/?status__exact=failed")
    assert listing.status_code == 200
    assert "evt_adm" in listing.content.decode()
    detail = admin_client.get("/admin/stripekit/webhookevent/evt_adm/change/").content.decode()
    assert "&quot;cs_test_adm&quot;" in detail  # the payload, pretty-printed and escaped
    assert "the warehouse is down" in detail

    # The warehouse is back: the same payload with a good email would work; simulate the
    # fix by letting the handler succeed (the email decides in the test shop).
    from stripekit_django.models import WebhookEvent

    row = WebhookEvent.objects.get(id="evt_adm")
    row.payload = bytes(row.payload).replace(b"fail@x.y", b"ok@x.y")
    row.save(update_fields=["payload"])
    answer = admin_client.post(
        "/admin/stripekit/webhookevent/",
        {"action": "replay", "_selected_action": ["evt_adm"]},
        follow=True,
    )
    assert "Replayed 1: evt_adm: processed" in answer.content.decode()
    assert get_kit().store.get("evt_adm").status is EventStatus.PROCESSED  # type: ignore[union-attr]
    assert Order.objects.filter(session_id="cs_test_adm").exists()


def _ids(**stripekit: Any) -> set[str]:
    from django.conf import settings

    with override_settings(STRIPEKIT={**settings.STRIPEKIT, **stripekit}):
        return {message.id for message in run_checks(tags=["stripekit"])}


def test_a_complete_setup_passes_the_checks() -> None:
    assert _ids() == set()
    # Connect: a storefront resolver named by its dotted path, or given itself.
    assert _ids(CONNECTED_ACCOUNT="account_scenarios.storefront_account") == set()
    assert _ids(CONNECTED_ACCOUNT=lambda request: None) == set()


def test_a_hook_that_does_not_import_says_which_and_how_to_fix_it() -> None:
    from django.conf import settings

    broken = {**settings.STRIPEKIT, "CONNECTED_ACCOUNT": "shop.nowhere.account_of"}
    with override_settings(STRIPEKIT=broken):
        (found,) = run_checks(tags=["stripekit"])
    assert found.msg.startswith(
        "STRIPEKIT[\"CONNECTED_ACCOUNT\"] = 'shop.nowhere.account_of' does not import"
    )
    assert "dotted path" in found.msg and "CONNECTED_ACCOUNT" in (found.hint or "")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SECRET_KEY": None}, "stripekit.E001"),
        ({"WEBHOOK_SECRET": None}, "stripekit.E002"),
        ({"PRODUCTS": None}, "stripekit.E003"),
        ({"PRODUCTS": "/nowhere/products.toml"}, "stripekit.E003"),
        ({"PUBLISHABLE_KEY": "pk_live_mixed"}, "stripekit.E004"),
        ({"CONNECTED_ACCOUNT": "shop.nowhere.account_of"}, "stripekit.E005"),
        ({"CONNECTED_ACCOUNT": 42}, "stripekit.E005"),
        ({"BUYER": "shop.models.no_such_function"}, "stripekit.E005"),
    ],
)
def test_each_problem_has_its_check(change: dict[str, Any], expected: str) -> None:
    assert _ids(**change) == {expected}


def test_an_unmounted_webhook_url_is_a_warning() -> None:
    with override_settings(ROOT_URLCONF="django_project.urls_without_stripe"):
        assert _ids() == {"stripekit.W001"}


@pytest.mark.django_db
def test_the_shipped_migrations_match_the_models() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "stripekit", "shop", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
