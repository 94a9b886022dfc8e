from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fake_stripe import SECRET_KEY, FakeStripe

from stripekit import (
    Catalog,
    Price,
    PriceResolutionError,
    PriceResolver,
    Product,
    Settings,
    StripeAPIError,
)
from stripekit._stripe_api import make_client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


def resolver_for(
    server: FakeStripe, *, ttl: float = 300.0, clock: Clock | None = None
) -> PriceResolver:
    settings = Settings(secret_key=SECRET_KEY, api_base=server.url, price_cache_ttl=ttl)
    client = make_client(settings)
    return PriceResolver(settings, lambda: client, clock=clock or Clock())


def no_client() -> object:
    raise AssertionError("Stripe must not be asked")


def catalog_of(*lookup_keys: str) -> Catalog:
    return Catalog.from_products(
        [
            Product(
                key="packs",
                name="Packs",
                mode="payment",
                prices=[Price(lookup_key=k, amount=1500, currency="usd") for k in lookup_keys],
            )
        ]
    )


def asked_keys(server: FakeStripe) -> list[list[str]]:
    return [
        [v for k, v in r.params.items() if k.startswith("lookup_keys[")]
        for r in server.requests_to("GET", "/v1/prices")
    ]


def test_an_id_in_the_file_is_used_as_is() -> None:
    settings = Settings(secret_key=SECRET_KEY)
    resolver = PriceResolver(settings, no_client)  # type: ignore[arg-type]
    price = Price(lookup_key="a", amount=1, currency="usd", id="price_fromfile")
    assert resolver.resolve(price) == "price_fromfile"


def test_an_id_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = PriceResolver(Settings(secret_key=SECRET_KEY), no_client)  # type: ignore[arg-type]
    price = Price(lookup_key="a", amount=1, currency="usd", id_env="BOOK_PRICE_ID")
    monkeypatch.setenv("BOOK_PRICE_ID", " price_fromenv\n")
    assert resolver.resolve(price) == "price_fromenv"
    monkeypatch.setenv("BOOK_PRICE_ID", "")
    with pytest.raises(PriceResolutionError, match="BOOK_PRICE_ID, which is not set"):
        resolver.resolve(price)
    monkeypatch.delenv("BOOK_PRICE_ID")
    with pytest.raises(PriceResolutionError, match="export BOOK_PRICE_ID=price_"):
        resolver.resolve(price)
    monkeypatch.setenv("BOOK_PRICE_ID", "prod_123")
    with pytest.raises(PriceResolutionError, match=r"must hold a Stripe price id \(price_...\)"):
        resolver.resolve(price)


def test_lookup_keys_are_batched_in_one_request_and_cached(stripe_server: FakeStripe) -> None:
    ids = {k: stripe_server.add_price(k)["id"] for k in ("a", "b", "c")}
    catalog = catalog_of("a", "b", "c")
    resolver = resolver_for(stripe_server)
    first = catalog.get("packs").prices[1]
    assert resolver.resolve(first, catalog=catalog) == ids["b"]
    assert asked_keys(stripe_server) == [["b", "a", "c"]]  # the wanted key first
    request = stripe_server.requests_to("GET", "/v1/prices")[0]
    assert request.params["active"] == "true"
    assert request.params["limit"] == "100"
    for price in catalog.get("packs").prices:  # warmed by the first call
        assert resolver.resolve(price, catalog=catalog) == ids[price.lookup_key]
    assert len(stripe_server.requests) == 1


def test_one_resolve_asks_for_at_most_ten_keys(stripe_server: FakeStripe) -> None:
    keys = [f"k{i:02d}" for i in range(23)]
    for k in keys:
        stripe_server.add_price(k)
    catalog = catalog_of(*keys)
    resolver = resolver_for(stripe_server)
    resolver.resolve(catalog.get("packs").prices[22], catalog=catalog)
    assert asked_keys(stripe_server) == [["k22", *keys[:9]]]


def test_resolve_all_chunks_by_ten(stripe_server: FakeStripe) -> None:
    keys = [f"k{i:02d}" for i in range(23)]
    ids = {k: stripe_server.add_price(k)["id"] for k in keys}
    resolver = resolver_for(stripe_server)
    assert resolver.resolve_all(catalog_of(*keys)) == ids
    assert asked_keys(stripe_server) == [keys[:10], keys[10:20], keys[20:]]
    assert resolver.resolve_all(catalog_of(*keys)) == ids  # all cached now
    assert len(stripe_server.requests) == 3


def test_the_cache_expires_after_the_ttl(stripe_server: FakeStripe) -> None:
    stripe_server.add_price("a")
    clock = Clock()
    resolver = resolver_for(stripe_server, ttl=60, clock=clock)
    price = catalog_of("a").get("packs").default_price
    resolver.resolve(price)
    clock.now += 59.9
    resolver.resolve(price)
    assert len(stripe_server.requests) == 1
    clock.now += 0.1
    resolver.resolve(price)
    assert len(stripe_server.requests) == 2
    resolver.clear()
    resolver.resolve(price)
    assert len(stripe_server.requests) == 3


def test_a_ttl_of_zero_asks_every_time(stripe_server: FakeStripe) -> None:
    price_id = stripe_server.add_price("a")["id"]
    resolver = resolver_for(stripe_server, ttl=0)
    price = catalog_of("a").get("packs").default_price
    assert resolver.resolve(price) == price_id
    assert resolver.resolve(price) == price_id
    assert len(stripe_server.requests) == 2


def test_a_missing_or_inactive_price_says_to_sync(stripe_server: FakeStripe) -> None:
    stripe_server.add_price("old", active=False)
    resolver = resolver_for(stripe_server)
    catalog = catalog_of("old", "new")
    for price in catalog.get("packs").prices:
        with pytest.raises(PriceResolutionError) as caught:
            resolver.resolve(price)
        assert f"no active Stripe price has lookup_key {price.lookup_key!r}" in str(caught.value)
        assert "run `stripekit products sync`" in str(caught.value)
        assert 'set id = "price_..."' in str(caught.value)
    with pytest.raises(PriceResolutionError, match=r"'old'.*'new'"):
        resolver.resolve_all(catalog)


def test_a_stripe_price_that_differs_from_the_catalog_is_refused(stripe_server: FakeStripe) -> None:
    stripe_server.add_price("a", unit_amount=2000, price_id="price_stale")
    resolver = resolver_for(stripe_server)
    with pytest.raises(PriceResolutionError) as caught:
        resolver.resolve(catalog_of("a").get("packs").default_price)
    assert str(caught.value) == (
        "the Stripe price price_stale for lookup_key 'a' does not match the catalog "
        "(amount: catalog 1500, Stripe 2000): run `stripekit products sync`"
    )


def test_a_stripe_error_is_mapped(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next("Invalid API Key provided", code="api_key_invalid")
    resolver = resolver_for(stripe_server)
    with pytest.raises(StripeAPIError) as caught:
        resolver.resolve(catalog_of("a").get("packs").default_price)
    assert (caught.value.status, caught.value.code) == (400, "api_key_invalid")
    assert caught.value.request_id == "req_fake0001"


def test_threads_share_the_cache(stripe_server: FakeStripe) -> None:
    price_id = stripe_server.add_price("a")["id"]
    resolver = resolver_for(stripe_server)
    price = catalog_of("a").get("packs").default_price
    resolver.resolve(price)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolver.resolve(price))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [price_id] * 8
    assert len(stripe_server.requests) == 1


async def test_aresolve_batches_and_caches(stripe_server: FakeStripe) -> None:
    ids = {k: stripe_server.add_price(k)["id"] for k in ("a", "b")}
    catalog = catalog_of("a", "b")
    resolver = resolver_for(stripe_server)
    a, b = catalog.get("packs").prices
    assert await resolver.aresolve(a, catalog=catalog) == ids["a"]
    assert await resolver.aresolve(b, catalog=catalog) == ids["b"]
    assert asked_keys(stripe_server) == [["a", "b"]]
    assert stripe_server.requests[0].params["active"] == "true"


async def test_aresolve_all_chunks_and_reports(stripe_server: FakeStripe) -> None:
    keys = [f"k{i:02d}" for i in range(12)]
    ids = {k: stripe_server.add_price(k)["id"] for k in keys}
    resolver = resolver_for(stripe_server)
    assert await resolver.aresolve_all(catalog_of(*keys)) == ids
    assert asked_keys(stripe_server) == [keys[:10], keys[10:]]
    with pytest.raises(PriceResolutionError, match="'missing'"):
        await resolver.aresolve_all(catalog_of("k00", "missing"))


async def test_aresolve_maps_stripe_errors(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next("boom", code=None, error_type="api_error")
    resolver = resolver_for(stripe_server)
    with pytest.raises(StripeAPIError, match="boom") as caught:
        await resolver.aresolve(catalog_of("a").get("packs").default_price)
    assert caught.value.status == 400
    assert caught.value.request_id is not None
