"""StripeKit: the facade an app builds once; lazy, thread-safe, wired from one Settings."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_stripe import SECRET_KEY, FakeStripe
from open_connections import sqlite_connections, still_open

from stripekit import (
    Catalog,
    ConfigurationError,
    Event,
    EventStatus,
    MemoryEventStore,
    Price,
    Product,
    Settings,
    SQLEventStore,
    StripeKit,
    WebhookRegistry,
)
from stripekit.testing import signed_event

SECRET = "whsec_kit"
PRODUCTS = """
[products.book]
name = "The Book"
mode = "payment"
max_quantity = 3

[[products.book.prices]]
lookup_key = "book_eur"
amount = 1900
currency = "eur"
"""


@pytest.fixture
def server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        fake.add_price("book_eur", unit_amount=1900, currency="eur", price_id="price_book")
        yield fake


@pytest.fixture
def products(tmp_path: Path) -> Path:
    path = tmp_path / "products.toml"
    path.write_text(PRODUCTS)
    return path


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, products: Path
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_env")
    monkeypatch.setenv("STRIPEKIT_PRODUCTS", str(products))
    kit = StripeKit(store="memory://")
    assert kit.settings.mode == "test"
    assert kit.catalog.keys() == ["book"]


def test_settings_object_or_values_not_both() -> None:
    with pytest.raises(TypeError, match="either a Settings object or setting values"):
        StripeKit(Settings(secret_key="sk_test_1"), secret_key="sk_test_2")


def test_bad_setting_values_are_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="STRIPE_SECRET_KEY"):
        StripeKit(secret_key="pk_test_not_a_secret_key")


def test_nothing_is_read_or_opened_until_first_use(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    database = tmp_path / "events.sqlite3"
    kit = StripeKit(secret_key="sk_test_1", products=str(missing), store=f"sqlite:///{database}")
    assert not database.exists()
    with pytest.raises(ConfigurationError, match=r"nope\.toml"):
        _ = kit.catalog
    assert list(kit.store.list()) == []
    assert database.exists()


def test_no_products_file_says_what_to_set() -> None:
    kit = StripeKit(secret_key="sk_test_1")
    with pytest.raises(ConfigurationError, match="set STRIPEKIT_PRODUCTS"):
        _ = kit.catalog


def test_a_catalog_in_python_needs_no_file() -> None:
    catalog = Catalog.from_products(
        [
            Product(
                key="tea",
                name="Tea",
                mode="payment",
                prices=[Price(lookup_key="tea", amount=300, currency="gbp")],
            )
        ]
    )
    assert StripeKit(secret_key="sk_test_1", catalog=catalog).catalog is catalog


def test_store_from_an_object_a_url_or_the_database_setting(tmp_path: Path) -> None:
    store = MemoryEventStore()
    assert StripeKit(secret_key="sk_test_1", store=store).store is store
    assert isinstance(StripeKit(secret_key="sk_test_1", store="memory://").store, MemoryEventStore)
    database = tmp_path / "default.sqlite3"
    kit = StripeKit(secret_key="sk_test_1", database_url=f"sqlite:///{database}")
    assert type(kit.store).__name__ == "SQLEventStore"
    assert list(kit.store.list()) == []
    assert database.exists()


def test_close_closes_the_store_the_kit_opened_and_leaves_yours_open(tmp_path: Path) -> None:
    body, headers = signed_event("invoice.paid", secret=SECRET)
    with sqlite_connections() as opened:
        kit = StripeKit(
            secret_key="sk_test_1", webhook_secret=SECRET, store=f"sqlite:///{tmp_path / 'k.db'}"
        )
        assert kit.handle_webhook(body, headers).status == 200
    assert still_open(opened)
    kit.close()
    assert still_open(opened) == []  # closed now, not whenever the collector runs

    yours = SQLEventStore(f"sqlite:///{tmp_path / 'yours.db'}")
    with sqlite_connections() as opened:
        kit = StripeKit(secret_key="sk_test_1", webhook_secret=SECRET, store=yours)
        assert kit.handle_webhook(body, headers).status == 200
    kit.close()
    assert still_open(opened)  # the app's store: the app closes it
    yours.close()
    assert still_open(opened) == []


async def test_aclose_closes_the_store_the_kit_opened(tmp_path: Path) -> None:
    with sqlite_connections() as opened:
        kit = StripeKit(
            secret_key="sk_test_1", webhook_secret=SECRET, store=f"sqlite:///{tmp_path / 'k.db'}"
        )
        body, headers = signed_event("invoice.paid", secret=SECRET)
        assert (await kit.ahandle_webhook(body, headers)).status == 200
    assert still_open(opened)
    await kit.aclose()
    assert still_open(opened) == []


def test_webhooks_need_a_webhook_secret() -> None:
    kit = StripeKit(secret_key="sk_test_1", store="memory://")
    body, headers = signed_event("invoice.paid", secret=SECRET)
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        kit.handle_webhook(body, headers)


def test_repr_names_the_mode_and_no_secret() -> None:
    kit = StripeKit(secret_key="sk_test_verysecret", webhook_secret="whsec_verysecret")
    assert "sk_test_verysecret" not in repr(kit)
    assert "whsec_verysecret" not in repr(kit)
    assert "mode=test" in repr(kit)


def test_parts_are_built_once_even_when_threads_race(tmp_path: Path) -> None:
    kit = StripeKit(
        secret_key="sk_test_1",
        webhook_secret=SECRET,
        database_url=f"sqlite:///{tmp_path / 'race.sqlite3'}",
    )
    seen: list[tuple[Any, ...]] = []
    barrier = threading.Barrier(16)

    def touch() -> None:
        barrier.wait()
        seen.append((kit.store, kit.processor, kit.client, kit.portal, kit.prices))

    threads = [threading.Thread(target=touch) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16
    assert len({tuple(map(id, parts)) for parts in seen}) == 1
    assert kit.processor.store is kit.store


def test_checkout_and_portal_talk_to_the_configured_api_base(
    server: FakeStripe, products: Path
) -> None:
    kit = StripeKit(
        secret_key=SECRET_KEY,
        api_base=server.url,
        products=str(products),
        base_url="https://shop.example",
    )
    session = kit.checkout.create("book", quantity=2, customer_email="ada@example.com")
    assert session.url is not None
    (sent,) = server.requests_to("POST", "/v1/checkout/sessions")
    assert sent.params["line_items[0][price]"] == "price_book"
    assert sent.params["line_items[0][quantity]"] == "2"
    assert sent.params["mode"] == "payment"
    assert sent.params["cancel_url"].startswith("https://shop.example/")
    assert kit.portal.create("cus_1").startswith("https://")
    assert server.requests_to("POST", "/v1/billing_portal/sessions")


def _kit_with_handlers(tmp_path: Path, calls: list[str]) -> StripeKit:
    webhooks = WebhookRegistry()

    @webhooks.on("checkout.session.completed")
    def fulfil(event: Event) -> None:
        calls.append(f"sync {event.object['id']}")

    @webhooks.on("checkout.session.*")
    async def notify(event: Event) -> None:
        await asyncio.sleep(0)
        calls.append(f"async {event.object['id']}")

    return StripeKit(
        secret_key="sk_test_1",
        webhook_secret=SECRET,
        webhooks=webhooks,
        database_url=f"sqlite:///{tmp_path / 'events.sqlite3'}",
    )


def test_handle_webhook_records_and_dispatches_once(tmp_path: Path) -> None:
    calls: list[str] = []
    kit = _kit_with_handlers(tmp_path, calls)
    body, headers = signed_event(
        "checkout.session.completed", {"id": "cs_1", "object": "checkout.session"}, secret=SECRET
    )
    first, again = kit.handle_webhook(body, headers), kit.handle_webhook(body, headers)
    assert (first.status, first.body["status"]) == (200, "processed")
    assert (again.status, again.body["status"]) == (200, "duplicate")
    assert calls == ["sync cs_1", "async cs_1"]
    stored = kit.store.get(first.event_id or "")
    assert stored is not None
    assert (stored.status, stored.payload) == (EventStatus.PROCESSED, body)


async def test_ahandle_webhook_is_the_async_twin(tmp_path: Path) -> None:
    calls: list[str] = []
    kit = _kit_with_handlers(tmp_path, calls)
    body, headers = signed_event(
        "checkout.session.completed", {"id": "cs_2", "object": "checkout.session"}, secret=SECRET
    )
    result = await kit.ahandle_webhook(body, headers)
    assert result.status == 200
    assert calls == ["sync cs_2", "async cs_2"]


async def test_sync_path_inside_a_running_loop_says_to_await_the_async_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    kit = _kit_with_handlers(tmp_path, calls)
    body, headers = signed_event(
        "checkout.session.completed", {"id": "cs_3", "object": "checkout.session"}, secret=SECRET
    )
    result = kit.handle_webhook(body, headers)  # the mistake: sync call in async code
    assert result.status == 500  # recorded as failed, so Stripe retries and nothing is lost
    stored = kit.store.get(result.event_id or "")
    assert stored is not None
    assert stored.status == EventStatus.FAILED
    assert "await kit.ahandle_webhook" in (stored.last_error or "")
    assert calls == ["sync cs_3"]
    # The retry, made the right way, runs the handlers again.
    assert (await kit.ahandle_webhook(body, headers)).status == 200
    assert calls == ["sync cs_3", "sync cs_3", "async cs_3"]
