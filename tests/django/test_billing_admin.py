"""The billing state's admin: read-only lists that filter by status, user and product,
and each row's link to its object in Stripe's Dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from stripekit.billing._store import Kind, Row
from stripekit_django.billing import DjangoBillingStore
from stripekit_django.billing_admin import SubscriptionAdmin
from stripekit_django.billing_filters import ProductFilter
from stripekit_django.models import BillingSubscription

DASHBOARD = "https://dashboard.stripe.com"


def _mirror(using: str = "default") -> None:
    """Two users' customers, subscriptions, an invoice, checkouts, a charge, refund, dispute."""

    def write(tx: Any) -> None:
        for row in (
            Row(Kind.CUSTOMER, "cus_ada", {"email": "ada@x.y", "deleted": False},
                {"livemode": False}, 10),
            Row(Kind.CUSTOMER, "cus_bob", {"email": "bob@x.y", "deleted": False},
                {"livemode": True}, 10),
            Row(Kind.SUBSCRIPTION, "sub_ada", {"customer": "cus_ada", "status": "active"},
                {"items": [{"price": "price_p", "product": "pro", "quantity": 1}],
                 "livemode": False}, 20),
            Row(Kind.SUBSCRIPTION, "sub_bob", {"customer": "cus_bob", "status": "past_due"},
                {"items": [{"price": "price_b", "product": "pro_team", "quantity": 1}],
                 "livemode": True}, 20),
            Row(Kind.INVOICE, "in_ada", {"customer": "cus_ada", "subscription": "sub_ada",
                "status": "paid"}, {"lines": [{"product": "pro"}], "livemode": False}, 20),
            Row(Kind.PURCHASE, "cs_book", {"customer": None, "user_ref": "ada", "mode": "payment",
                "status": "paid", "payment_intent": "pi_book"},
                {"lines": [{"product": "book"}], "livemode": False}, 30),
            Row(Kind.PURCHASE, "cs_sub", {"customer": "cus_bob", "user_ref": None,
                "mode": "subscription", "status": "paid", "payment_intent": None},
                {"lines": None, "livemode": True}, 30),
            Row(Kind.CHARGE, "ch_book", {"customer": "cus_ada", "payment_intent": "pi_book"},
                {"amount": 1900}, 30),
            Row(Kind.REFUND, "re_book", {"charge": "ch_book", "payment_intent": "pi_book",
                "status": "succeeded"}, {"amount": 500}, 40),
            Row(Kind.DISPUTE, "dp_book", {"charge": "ch_book", "payment_intent": None,
                "status": "needs_response"}, {"amount": 1900}, 40),
        ):  # fmt: skip
            tx.put(row)
        tx.link("cus_ada", "ada")
        tx.link("cus_bob", "bob")
        tx.grant("user:ada", 50, "book x 1", "checkout:cs_book:book")
        tx.grant("customer:cus_new", 5, "pack x 1", "checkout:cs_new:pack")

    DjangoBillingStore(using=using).run(write)


PAGES = {
    "billingcustomer": ("cus_ada", f"{DASHBOARD}/test/customers/cus_ada"),
    "billingsubscription": ("sub_ada", f"{DASHBOARD}/test/subscriptions/sub_ada"),
    "billinginvoice": ("in_ada", f"{DASHBOARD}/test/invoices/in_ada"),
    "billingpurchase": ("cs_book", f"{DASHBOARD}/test/payments/pi_book"),
    "billingcharge": ("ch_book", f"{DASHBOARD}/test/payments/pi_book"),
    "billingrefund": ("re_book", f"{DASHBOARD}/test/payments/pi_book"),
    "billingdispute": ("dp_book", f"{DASHBOARD}/test/payments/ch_book"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("model", sorted(PAGES))
def test_each_list_and_page_renders_with_its_link_to_stripe(
    model: str, admin_client: Client
) -> None:
    _mirror()
    object_id, link = PAGES[model]
    listing = admin_client.get(f"/admin/stripekit/{model}/")
    assert listing.status_code == 200
    assert object_id in listing.content.decode() and f'href="{link}"' in listing.content.decode()
    page = admin_client.get(f"/admin/stripekit/{model}/{object_id}/change/")
    assert page.status_code == 200
    assert f'href="{link}"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("billingsubscription/?status__exact=past_due", ["sub_bob"], ["sub_ada"]),
        ("billingsubscription/?user=ada", ["sub_ada"], ["sub_bob"]),
        ("billingsubscription/?product=pro", ["sub_ada"], ["sub_bob"]),
        ("billingsubscription/?q=sub_bob", ["sub_bob"], ["sub_ada"]),
        ("billinginvoice/?user=bob", [], ["in_ada"]),
        ("billingpurchase/?user=ada", ["cs_book"], ["cs_sub"]),  # the user the checkout named
        ("billingpurchase/?user=bob", ["cs_sub"], ["cs_book"]),  # its customer's user
        ("billingpurchase/?product=book&mode__exact=payment", ["cs_book"], ["cs_sub"]),
        ("billingrefund/?user=ada", ["re_book"], []),  # through its charge's customer
        ("billingcustomer/?user=bob", ["cus_bob"], ["cus_ada"]),
        ("creditledgerentry/?owner_kind=customer", ["customer:cus_new"], ["user:ada"]),
        ("creditbalance/?q=ada", ["user:ada"], ["customer:cus_new"]),
    ],
)
def test_lists_filter_by_status_user_product_and_search_by_id(
    query: str, shown: list[str], hidden: list[str], admin_client: Client
) -> None:
    _mirror()
    listing = admin_client.get(f"/admin/stripekit/{query}")
    assert listing.status_code == 200  # not a redirect to ?e=1: Django knew the filters
    text = listing.content.decode()
    assert all(f">{item}<" in text or f"{item}</a>" in text for item in shown), text
    assert not any(f">{item}<" in text or f"{item}</a>" in text for item in hidden)


@pytest.mark.django_db
def test_live_objects_link_to_the_live_dashboard(admin_client: Client) -> None:
    _mirror()
    listing = admin_client.get("/admin/stripekit/billingpurchase/").content.decode()
    assert f'href="{DASHBOARD}/checkout/sessions/cs_sub"' in listing  # no payment intent
    listing = admin_client.get("/admin/stripekit/billingsubscription/").content.decode()
    assert f'href="{DASHBOARD}/subscriptions/sub_bob"' in listing


@pytest.mark.django_db
@pytest.mark.parametrize("model", [*sorted(PAGES), "creditledgerentry", "creditbalance"])
def test_nothing_can_be_added_changed_or_deleted(model: str, admin_client: Client) -> None:
    _mirror()
    assert admin_client.get(f"/admin/stripekit/{model}/add/").status_code == 403
    listing = admin_client.get(f"/admin/stripekit/{model}/").content.decode()
    assert "delete_selected" not in listing
    object_id = PAGES.get(model, ("1", ""))[0]
    if model == "creditbalance":
        object_id = "user:ada"
    page = admin_client.get(f"/admin/stripekit/{model}/{object_id}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"/admin/stripekit/{model}/{object_id}/delete/").status_code == 403


@pytest.mark.parametrize(
    "using",
    [
        "default",
        pytest.param("pg", marks=pytest.mark.postgres),
    ],
)
@pytest.mark.django_db(databases=["default", "pg"] if "pg" in settings.DATABASES else ["default"])
def test_the_product_filter_matches_whole_keys_on_each_database(using: str) -> None:
    if using not in settings.DATABASES:
        from services import service_missing

        service_missing("PostgreSQL not reachable at 127.0.0.1:5432")
    _mirror(using)
    request = RequestFactory().get("/")
    for key, expected in [("pro", ["sub_ada"]), ("pro_team", ["sub_bob"]), ("pr", [])]:
        chosen = ProductFilter(request, {"product": [key]}, BillingSubscription, SubscriptionAdmin)
        found = chosen.queryset(request, BillingSubscription.objects.using(using).all())
        assert sorted(found.values_list("id", flat=True)) == expected, key
