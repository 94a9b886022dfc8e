"""Backfill: events Stripe lists that the store never recorded run once, through the claim.

Against the emulator, which keeps its events list (``GET /v1/events``): the app
is "down" (no webhook endpoint) while buyers pay, then a backfill catches up.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import stripe
from kit_http import serving_webhooks

from stripekit import BackfillError, EventStatus, StripeKit, WebhookRegistry
from stripekit.emulator import RunningEmulator

SECRET_KEY = "sk_test_backfill"
WEBHOOK_SECRET = "whsec_backfill"


class Shop:
    """A kit whose handlers count what they ran, and buyers paying on the emulator."""

    def __init__(self, emulator: RunningEmulator, database: Path) -> None:
        self.emulator = emulator
        self.ran: Counter[str] = Counter()
        self.paid: Counter[str] = Counter()
        self._lock = threading.Lock()
        webhooks = WebhookRegistry()

        @webhooks.on("*")
        def every(event: Any) -> None:
            with self._lock:
                self.ran[event.id] += 1

        @webhooks.on("checkout.session.completed")
        def fulfil(event: Any) -> None:
            with self._lock:
                self.paid[event.object["id"]] += 1

        self.kit = StripeKit(
            secret_key=SECRET_KEY,
            webhook_secret=WEBHOOK_SECRET,
            api_base=emulator.api_base,
            database_url=f"sqlite:///{database}",
            billing=False,
            webhooks=webhooks,
        )
        self.client = stripe.StripeClient(
            SECRET_KEY, base_addresses={"api": emulator.api_base}, max_network_retries=0
        )
        self.price = self.client.v1.prices.create(
            {"currency": "usd", "unit_amount": 900, "product_data": {"name": "Book"}}
        ).id

    def purchase(self) -> str:
        session = self.client.v1.checkout.sessions.create(
            {
                "mode": "payment",
                "line_items": [{"price": self.price, "quantity": 1}],
                "success_url": "https://shop.test/ok",
                "customer_email": "ada@example.com",
            }
        )
        answer = httpx.post(str(session.url), data={"card_number": "4242424242424242"})
        assert answer.status_code == 303, answer.text[:300]
        return session.id

    def listed(self) -> list[str]:
        return [e["id"] for e in self.emulator.events()]


@pytest.fixture
def shop(stripe_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Shop]:
    made = Shop(stripe_emulator, tmp_path / "events.sqlite3")
    yield made
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(made.kit.aclose)


def test_a_backfill_runs_every_missed_event_once_and_a_second_finds_nothing(shop: Shop) -> None:
    sessions = [shop.purchase() for _ in range(50)]  # no endpoint: the app hears nothing
    events = shop.listed()
    assert len(events) > 100  # each purchase makes several events

    report = shop.kit.backfill(since=timedelta(hours=1))

    assert (report.seen, report.new, report.processed) == (len(events), len(events), len(events))
    assert (report.failed, report.skipped) == (0, 0)
    assert shop.paid == Counter({session: 1 for session in sessions})
    assert shop.ran == Counter({event: 1 for event in events})
    recorded = shop.kit.store.list(limit=1000)
    assert {row.id for row in recorded} == set(events)
    assert {row.status for row in recorded} == {EventStatus.PROCESSED}
    # Oldest first, as Stripe sent them: the results come in the events' order.
    assert [r.event_id for r in report.results] == events

    again = shop.kit.backfill(since=timedelta(hours=1))
    assert (again.seen, again.new, again.processed) == (len(events), 0, 0)
    assert shop.ran == Counter({event: 1 for event in events})


def test_only_what_the_store_lacks_is_run(shop: Shop) -> None:
    shop.purchase()
    first = shop.kit.backfill(since=timedelta(minutes=5))
    shop.purchase()
    second = shop.kit.backfill(since=timedelta(minutes=5))
    assert second.seen == len(shop.listed())
    assert second.new == second.seen - first.seen
    assert set(shop.ran.values()) == {1}


def test_types_filter_what_is_listed(shop: Shop) -> None:
    shop.purchase()
    report = shop.kit.backfill(since=timedelta(minutes=5), types=["checkout.session.completed"])
    assert (report.seen, report.new, report.processed) == (1, 1, 1)
    assert len(shop.paid) == 1


def test_a_failed_handler_is_recorded_failed_and_counted(
    stripe_emulator: RunningEmulator, tmp_path: Path
) -> None:
    shop = Shop(stripe_emulator, tmp_path / "events.sqlite3")

    @shop.kit.webhooks.on("payment_intent.succeeded")
    def broken(event: Any) -> None:
        raise RuntimeError("the mailer is down")

    shop.purchase()
    report = shop.kit.backfill(since=timedelta(minutes=5))
    assert report.failed == 1
    failed = [r for r in report.results if r.outcome == "failed"]
    assert len(failed) == 1
    row = shop.kit.store.get(str(failed[0].event_id))
    assert row is not None and row.status is EventStatus.FAILED
    assert "the mailer is down" in (row.last_error or "")
    # A failed event is recorded: a second backfill leaves it to `events replay`.
    assert shop.kit.backfill(since=timedelta(minutes=5)).new == 0


@pytest.mark.parametrize(
    "since",
    [timedelta(days=31), datetime.now(UTC) - timedelta(days=40), timedelta(days=-1)],
)
def test_since_must_be_within_the_thirty_days_stripe_keeps(shop: Shop, since: Any) -> None:
    with pytest.raises(BackfillError, match=r"30 days|future"):
        shop.kit.backfill(since=since)


def test_more_than_twenty_types_is_refused(shop: Shop) -> None:
    with pytest.raises(BackfillError, match="20 at most"):
        shop.kit.backfill(since=timedelta(days=1), types=[f"t.{n}" for n in range(21)])


def test_the_async_twin_runs_them_once_too(shop: Shop) -> None:
    shop.purchase()
    shop.purchase()
    events = shop.listed()

    async def run() -> tuple[Any, Any]:
        first = await shop.kit.abackfill(since=timedelta(minutes=5))
        second = await shop.kit.abackfill(since=timedelta(minutes=5))
        await shop.kit.aclose()  # on this loop, whose connections the async client holds
        return first, second

    first, second = anyio.run(run)
    assert (first.new, first.processed) == (len(events), len(events))
    assert second.new == 0
    assert shop.ran == Counter({event: 1 for event in events})


def test_a_backfill_racing_live_deliveries_runs_each_event_once(shop: Shop) -> None:
    with serving_webhooks(shop.kit) as url:
        shop.emulator.add_webhook_endpoint(url, secret=WEBHOOK_SECRET)
        buying = threading.Thread(target=lambda: [shop.purchase() for _ in range(15)])
        buying.start()
        reports = []
        while buying.is_alive():  # backfills run while the deliveries come in
            reports.append(shop.kit.backfill(since=timedelta(minutes=5)))
        buying.join()
        shop.emulator.wait_for_deliveries(timeout=60)
        reports.append(shop.kit.backfill(since=timedelta(minutes=5)))
    events = shop.listed()
    assert shop.ran == Counter({event: 1 for event in events})
    assert len(shop.paid) == 15 and set(shop.paid.values()) == {1}
    assert sum(r.failed for r in reports) == 0
    # Every event was recorded once, whichever path got there first.
    assert len(shop.kit.store.list(limit=1000)) == len(events)
