"""Handlers, their database writes and the event's status: one transaction; signals too."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from shop.models import Order

from stripekit import EventStatus
from stripekit.testing import signed_event
from stripekit_django import get_kit
from stripekit_django.signals import stripe_event

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_django_shop"


def deliver(client: Client, session: dict[str, Any], event_id: str) -> Any:
    body, headers = signed_event("checkout.session.completed", session, secret=SECRET, id=event_id)
    return client.post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )  # fmt: skip


def test_a_handler_write_commits_with_the_event(stripekit_settings: Any, client: Client) -> None:
    session = {"id": "cs_test_ok", "object": "checkout.session", "customer_email": "a@b.c"}
    assert deliver(client, session, "evt_ok").status_code == 200
    assert deliver(client, session, "evt_ok").json()["status"] == "duplicate"
    assert list(Order.objects.values_list("session_id", flat=True)) == ["cs_test_ok"]
    assert get_kit().store.get("evt_ok").status is EventStatus.PROCESSED  # type: ignore[union-attr]


def test_a_handler_that_raises_rolls_its_write_back(
    stripekit_settings: Any, client: Client
) -> None:
    session = {"id": "cs_test_bad", "object": "checkout.session", "customer_email": "fail@b.c"}
    answer = deliver(client, session, "evt_bad")
    assert answer.status_code == 500
    assert not Order.objects.filter(session_id="cs_test_bad").exists()  # rolled back
    stored = get_kit().store.get("evt_bad")
    assert stored is not None and stored.status is EventStatus.FAILED
    assert "the warehouse is down" in (stored.last_error or "")


def test_signals_reach_receivers(stripekit_settings: Any, client: Client) -> None:
    from stripekit_django.conf import reset_kit

    seen: list[str] = []

    def receiver(sender: Any, event: Any, event_type: str, **kwargs: Any) -> None:
        seen.append(event_type)

    stripe_event.connect(receiver)
    try:
        reset_kit()
        body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_signal")
        client.post(
            "/stripe/webhook", body, content_type="application/json",
            headers={"Stripe-Signature": headers["Stripe-Signature"]},
        )  # fmt: skip
    finally:
        stripe_event.disconnect(receiver)
    assert seen == ["invoice.paid"]


def test_concurrent_deliveries_on_sqlite_are_all_processed(stripekit_settings: Any) -> None:
    """The kit's mirror reads before it writes; on SQLite the unit of work takes the write
    lock first, so that a delivery waits for another's commit instead of failing."""
    import threading

    from django.db import connections

    from stripekit_django.models import BillingPurchase

    kit = get_kit()
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def deliver_one(number: int) -> None:
        session = {
            "id": f"cs_race_{number}", "object": "checkout.session", "customer_email": "x@y",
            "status": "complete", "mode": "payment", "payment_status": "paid",
        }  # fmt: skip
        body, headers = signed_event(
            "checkout.session.completed", session, secret=SECRET, id=f"evt_race_{number}"
        )
        try:
            barrier.wait()
            statuses.append(kit.handle_webhook(body, headers).status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert Order.objects.filter(session_id__startswith="cs_race_").count() == 8
    assert BillingPurchase.objects.filter(id__startswith="cs_race_").count() == 8  # mirrored
