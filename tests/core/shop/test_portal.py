from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_stripe import SECRET_KEY, FakeStripe, ignore_httpx_data_warning

from stripekit import BillingPortal, CheckoutError, Settings, StripeAPIError
from stripekit._stripe_api import make_client


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


def make_portal(server: FakeStripe, **settings: Any) -> BillingPortal:
    config = Settings(
        **{"secret_key": SECRET_KEY, "api_base": server.url, "base_url": "https://shop.example"}
        | settings
    )
    client = make_client(config)
    return BillingPortal(config, lambda: client)


def test_create_returns_the_portal_url(stripe_server: FakeStripe) -> None:
    url = make_portal(stripe_server).create("cus_Abc123")
    assert url.startswith("https://billing.stripe.test/p/session/")
    (request,) = stripe_server.requests_to("POST", "/v1/billing_portal/sessions")
    assert request.params == {"customer": "cus_Abc123", "return_url": "https://shop.example/"}


def test_the_return_url_defaults_to_the_setting(stripe_server: FakeStripe) -> None:
    portal = make_portal(stripe_server, portal_return_url="https://shop.example/account")
    portal.create("cus_1")
    assert stripe_server.requests[0].params["return_url"] == "https://shop.example/account"


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("https://shop.example/account", "https://shop.example/account"),
        ("https://shop.example", "https://shop.example"),
        ("https://SHOP.example/a?b=c#d", "https://SHOP.example/a?b=c#d"),
        ("/account/billing", "https://shop.example/account/billing"),
    ],
)
def test_a_return_url_on_this_site_is_kept(
    stripe_server: FakeStripe, given: str, sent: str
) -> None:
    make_portal(stripe_server).create("cus_1", return_url=given)
    assert stripe_server.requests[0].params["return_url"] == sent


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/account",
        "https://shop.example.evil.example/",
        "https://shop.example@evil.example/",
        "http://shop.example/account",  # another scheme
        "https://shop.example:8443/account",
        "//evil.example/account",
        "javascript:alert(1)",
        "account",
        "https://shop.example\\@evil.example/",
        "",
    ],
)
def test_a_return_url_elsewhere_is_refused(stripe_server: FakeStripe, url: str) -> None:
    with pytest.raises(CheckoutError, match="is not on this site") as caught:
        make_portal(stripe_server).create("cus_1", return_url=url)
    assert "STRIPEKIT_BASE_URL (https://shop.example)" in str(caught.value)
    assert stripe_server.requests == []


def test_a_base_url_with_a_path_bounds_the_return_url(stripe_server: FakeStripe) -> None:
    portal = make_portal(stripe_server, base_url="https://example.com/shop")
    portal.create("cus_1", return_url="https://example.com/shop/account")
    portal.create("cus_1", return_url="/account")
    assert [r.params["return_url"] for r in stripe_server.requests] == [
        "https://example.com/shop/account",
        "https://example.com/shop/account",
    ]
    for url in ("https://example.com/shopping", "https://example.com/other"):
        with pytest.raises(CheckoutError):
            portal.create("cus_1", return_url=url)


@pytest.mark.parametrize("customer", ["", "user_1", "cus_", "cus_1 2", "CUS_1", None])
def test_a_bad_customer_id_is_refused(stripe_server: FakeStripe, customer: Any) -> None:
    with pytest.raises(CheckoutError, match=r"customer must be a Stripe customer id \(cus_...\)"):
        make_portal(stripe_server).create(customer)
    assert stripe_server.requests == []


@pytest.mark.parametrize("account", ["", "acct_", "cus_1", "acct_1 2", 42])
def test_a_malformed_stripe_account_is_refused(stripe_server: FakeStripe, account: Any) -> None:
    with pytest.raises(CheckoutError, match="stripe_account must be a connected account's id"):
        make_portal(stripe_server).create("cus_1", stripe_account=account)
    assert stripe_server.requests == []


def test_a_stripe_error_is_mapped(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next(
        "You can't create a portal session in test mode until you save your customer "
        "portal settings in test mode.",
        code=None,
    )
    with pytest.raises(StripeAPIError, match="portal settings") as caught:
        make_portal(stripe_server).create("cus_1")
    assert (caught.value.status, caught.value.code) == (400, None)
    assert caught.value.request_id == "req_fake0001"


@ignore_httpx_data_warning
async def test_acreate_returns_the_portal_url(stripe_server: FakeStripe) -> None:
    portal = make_portal(stripe_server)
    url = await portal.acreate("cus_1", return_url="/account")
    assert url.startswith("https://billing.stripe.test/p/session/")
    (request,) = stripe_server.requests
    assert request.params == {"customer": "cus_1", "return_url": "https://shop.example/account"}
    with pytest.raises(CheckoutError):
        await portal.acreate("cus_1", return_url="https://evil.example/")


@ignore_httpx_data_warning
async def test_acreate_maps_stripe_errors(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next("No such customer: 'cus_gone'")
    with pytest.raises(StripeAPIError) as caught:
        await make_portal(stripe_server).acreate("cus_gone")
    assert (caught.value.status, caught.value.code) == (400, "resource_missing")
    assert caught.value.request_id is not None
