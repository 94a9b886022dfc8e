"""The clock, renewals, trials ending, cancellation through the API and the portal page."""

from __future__ import annotations

import re

import httpx
import pytest
import stripe
from webhook_sink import WebhookSink

from stripekit.emulator import RunningEmulator
from stripekit.emulator._periods import add_interval

DAY = 86400


def subscribe(
    client: stripe.StripeClient, emulator: RunningEmulator, trial: int | None = None
) -> stripe.Subscription:
    product = client.v1.products.create({"name": "Pro"})
    monthly = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
        }
    )
    params: dict[str, object] = {
        "mode": "subscription",
        "line_items": [{"price": monthly.id}],
        "success_url": "https://shop.test/ok",
        "customer_email": "ada@example.com",
    }
    if trial:
        params["subscription_data"] = {"trial_period_days": trial}
    session = client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    httpx.post(str(session.url), data={"card_number": "4242424242424242"})
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    return client.v1.subscriptions.retrieve(str(sub_id))


def period_end(sub: stripe.Subscription) -> int:
    return sub["items"].data[0].current_period_end  # type: ignore[no-any-return]


def test_months_follow_the_calendar() -> None:
    jan31 = 1706659200  # 2024-01-31 00:00 UTC
    assert add_interval(jan31, "month", 1) == 1709164800  # 2024-02-29 (leap year)
    assert add_interval(jan31, "year", 1) == 1738281600  # 2025-01-31
    assert add_interval(jan31, "week", 2) == jan31 + 14 * DAY


def test_the_clock_renews_a_subscription(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    sub = subscribe(client, emulator)
    first_end = period_end(sub)
    emulator.wait_for_deliveries()
    before = len(sink.received)

    emulator.advance_clock(days=32)

    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed.status == "active"
    assert renewed["items"].data[0].current_period_start == first_end
    invoices = client.v1.invoices.list({"subscription": sub.id})
    assert [i.billing_reason for i in invoices.data] == [
        "subscription_cycle",
        "subscription_create",
    ]
    assert invoices.data[0].amount_paid == 1500
    emulator.wait_for_deliveries()
    assert sink.types()[before:] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]


def test_two_periods_at_once_make_two_invoices(
    client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    sub = subscribe(client, emulator)
    emulator.advance_clock(days=65)
    assert len(client.v1.invoices.list({"subscription": sub.id}).data) == 3


def test_a_trial_ends_into_a_paid_period(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    sub = subscribe(client, emulator, trial=7)
    assert sub.status == "trialing"
    emulator.advance_clock(days=6)
    assert client.v1.subscriptions.retrieve(sub.id).status == "trialing"
    answer = httpx.post(f"{emulator.url}/_emulator/clock", data={"days": "2"})
    assert answer.status_code == 200
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "active"
    latest = client.v1.invoices.retrieve(str(ended.latest_invoice))
    assert latest.amount_paid == 1500
    emulator.wait_for_deliveries()
    updated = [r.event for r in sink.received if r.event["type"] == "customer.subscription.updated"]
    assert updated[-1]["data"]["previous_attributes"]["status"] == "trialing"


def test_cancel_at_period_end_then_the_period_ends(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    sub = subscribe(client, emulator)
    pending = client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    assert (pending.status, pending.cancel_at_period_end) == ("active", True)
    emulator.advance_clock(days=40)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled"
    assert ended.ended_at == period_end(sub)
    assert len(client.v1.invoices.list({"subscription": sub.id}).data) == 1  # no renewal
    emulator.wait_for_deliveries()
    assert sink.types()[-2:] == ["customer.subscription.updated", "customer.subscription.deleted"]
    assert client.v1.subscriptions.list({"customer": str(sub.customer)}).data == []
    every = client.v1.subscriptions.list({"customer": str(sub.customer), "status": "all"})
    assert [s.id for s in every.data] == [sub.id]


def test_cancel_now(client: stripe.StripeClient, emulator: RunningEmulator) -> None:
    sub = subscribe(client, emulator)
    canceled = client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError, match="canceled subscription"):
        client.v1.subscriptions.cancel(sub.id)


def test_the_clock_only_moves_forward(emulator: RunningEmulator) -> None:
    answer = httpx.post(f"{emulator.url}/_emulator/clock", data={"seconds": "-5"})
    assert answer.status_code == 400


def test_the_portal_page_cancels(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    keep = subscribe(client, emulator)
    portal = client.v1.billing_portal.sessions.create(
        {"customer": str(keep.customer), "return_url": "https://shop.test/account"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url.startswith(emulator.url)
    page = httpx.get(portal.url)
    assert page.status_code == 200
    assert keep.id in page.text and "Pro" in page.text
    assert 'href="https://shop.test/account"' in page.text

    later = httpx.post(f"{portal.url}/cancel", data={"subscription": keep.id, "when": "period_end"})
    assert later.status_code == 303
    assert client.v1.subscriptions.retrieve(keep.id).cancel_at_period_end is True
    assert "Cancels at the end of the period" in httpx.get(portal.url).text

    now = httpx.post(f"{portal.url}/cancel", data={"subscription": keep.id, "when": "now"})
    assert now.status_code == 303
    assert client.v1.subscriptions.retrieve(keep.id).status == "canceled"
    assert re.search(r"No active subscriptions", httpx.get(portal.url).text)


def test_the_portal_refuses_another_customers_subscription(
    client: stripe.StripeClient, emulator: RunningEmulator
) -> None:
    theirs = subscribe(client, emulator)
    stranger = client.v1.customers.create({"email": "eve@example.com"})
    portal = client.v1.billing_portal.sessions.create({"customer": stranger.id})
    answer = httpx.post(f"{portal.url}/cancel", data={"subscription": theirs.id, "when": "now"})
    assert answer.status_code == 404
    assert client.v1.subscriptions.retrieve(theirs.id).status == "active"
    with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
        client.v1.billing_portal.sessions.create({"customer": "cus_nope"})


def test_a_trial_warns_three_days_before_it_ends(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    sub = subscribe(client, emulator, trial=14)
    emulator.advance_clock(days=10)
    emulator.wait_for_deliveries()
    assert "customer.subscription.trial_will_end" not in sink.types()
    emulator.advance_clock(days=1)  # three days left
    emulator.advance_clock(days=1)  # said once only
    emulator.wait_for_deliveries()
    assert sink.types().count("customer.subscription.trial_will_end") == 1
    assert client.v1.subscriptions.retrieve(sub.id).status == "trialing"
    emulator.advance_clock(days=3)
    emulator.wait_for_deliveries()
    types = sink.types()
    assert types[types.index("customer.subscription.trial_will_end") + 1 :] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_ending_a_trial_now_warns_and_bills(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    sub = subscribe(client, emulator, trial=30)
    ended = client.v1.subscriptions.update(sub.id, {"trial_end": "now"})
    assert ended.status == "active"
    assert client.v1.invoices.retrieve(str(ended.latest_invoice)).amount_paid == 1500
    emulator.wait_for_deliveries()
    types = sink.types()
    warned = types.index("customer.subscription.trial_will_end")
    assert types[warned:] == [
        "customer.subscription.trial_will_end",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]


def test_the_portal_page_takes_a_cancellation_back(
    client: stripe.StripeClient, emulator: RunningEmulator, sink: WebhookSink
) -> None:
    sub = subscribe(client, emulator)
    portal = client.v1.billing_portal.sessions.create({"customer": str(sub.customer)})
    assert "Renews on" in httpx.get(portal.url).text
    httpx.post(f"{portal.url}/cancel", data={"subscription": sub.id, "when": "period_end"})
    page = httpx.get(portal.url).text
    assert "Don&#39;t cancel" in page or "Don't cancel" in page
    kept = httpx.post(f"{portal.url}/resume", data={"subscription": sub.id})
    assert kept.status_code == 303
    resumed = client.v1.subscriptions.retrieve(sub.id)
    assert (resumed.cancel_at_period_end, resumed.cancel_at) == (False, None)
    emulator.wait_for_deliveries()
    last = sink.received[-1].event
    assert last["type"] == "customer.subscription.updated"
    assert last["data"]["previous_attributes"]["cancel_at_period_end"] is True
    emulator.advance_clock(days=32)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"  # renewed, not ended


def test_the_checkout_page_shows_a_trial(client: stripe.StripeClient) -> None:
    monthly = client.v1.prices.create(
        {
            "product_data": {"name": "Pro"},
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month", "trial_period_days": 7},
        }
    )
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": monthly.id}],
            "success_url": "https://x.test",
        }
    )
    page = httpx.get(str(session.url)).text
    assert "7 days free" in page and "Then $15.00 / month" in page and "Start trial" in page
