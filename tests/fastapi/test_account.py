"""The account page and its actions through the FastAPI router and the Starlette routes."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from account_scenarios import SCENARIOS, AccountHttp, Answer, account_headers
from anyio.from_thread import BlockingPortal, start_blocking_portal
from billing_flows import Flows, make_kit
from connect_scenarios import CONNECT_SCENARIOS
from fastapi_shop import asgi_client, fastapi_app, starlette_app, storefront_from_headers

from stripekit import StripeKit
from stripekit.emulator import RunningEmulator


class _Client:
    """The app's routes in-process, on one event loop in a thread (the kit's async client
    lives and closes on it); the user rides in a header."""

    prefix = "/stripe"

    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        self.portal = portal
        self.client = asgi_client(app)

    def get(
        self, path: str, *, user: str | None, as_json: bool = False, storefront: str | None = None
    ) -> Answer:
        headers = account_headers(user, as_json, storefront)
        answer = self.portal.call(partial(self.client.get, path, headers=headers))
        return Answer(answer.status_code, answer.text, answer.headers.get("location"))

    def post(
        self,
        path: str,
        data: dict[str, Any],
        *,
        user: str | None,
        as_json: bool = False,
        cross_site: bool = False,
        storefront: str | None = None,
    ) -> Answer:
        sent = account_headers(user, as_json, storefront)
        if cross_site:
            sent["Sec-Fetch-Site"] = "cross-site"
        body: dict[str, Any] = {"json": data} if as_json else {"data": data}
        answer = self.portal.call(partial(self.client.post, path, headers=sent, **body))
        return Answer(answer.status_code, answer.text, answer.headers.get("location"))


@pytest.fixture
def kit(stripe_emulator: RunningEmulator, products: Path) -> StripeKit:
    return make_kit(stripe_emulator, products, publishable_key="pk_test_billing")


@pytest.fixture(params=["fastapi", "starlette"])
def http(request: pytest.FixtureRequest, kit: StripeKit) -> Iterator[AccountHttp]:
    make = fastapi_app if request.param == "fastapi" else starlette_app
    with start_blocking_portal() as portal:
        # The resolver answers None without the X-Storefront header: every scenario that
        # sends none is the platform's, as without a resolver.
        client = _Client(make(kit, connected_account=storefront_from_headers), portal)
        yield client
        portal.call(client.client.aclose)
        portal.call(kit.aclose)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_account(name: str, http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    SCENARIOS[name](http, kit, flows)


@pytest.mark.parametrize("name", sorted(CONNECT_SCENARIOS))
def test_connect(name: str, http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    """The routes on a connected account's storefront (the app's connected_account)."""
    CONNECT_SCENARIOS[name](http, kit, flows)


def test_no_account_routes_without_the_billing_state(
    stripe_emulator: RunningEmulator, products: Path
) -> None:
    kit = make_kit(stripe_emulator, products, billing=False)
    with start_blocking_portal() as portal:
        client = _Client(fastapi_app(kit), portal)
        page = client.get("/stripe/pricing", user="ada")
        assert 'id="account-link"' not in page.text  # nothing to link to
        answer = client.get("/stripe/account", user="ada", as_json=True)
        assert answer.status == 500 and "not configured" in answer.text
        portal.call(kit.aclose)
