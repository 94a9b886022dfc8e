"""The account page and its actions through the Django views (account_scenarios.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from account_scenarios import SCENARIOS, AccountHttp, Answer, account_headers
from billing_flows import SECRET_KEY, WEBHOOK_SECRET, Flows
from connect_scenarios import CONNECT_SCENARIOS
from django.http import HttpRequest
from django.test import Client

from stripekit import Buyer, StripeKit
from stripekit.emulator import RunningEmulator
from stripekit_django.conf import get_kit, reset_kit

pytestmark = pytest.mark.django_db(transaction=True)


def buyer_from_header(request: HttpRequest) -> Buyer | None:
    """The test project's "signed-in user": a header stands in for Django's login."""
    user = request.headers.get("X-User")
    return Buyer(reference=user, email=f"{user}@example.com") if user else None


class _Client:
    """Django's test client; the cross-site one checks CSRF tokens as a browser's would."""

    prefix = "/stripe"

    def __init__(self) -> None:
        self.client = Client()
        self.strict = Client(enforce_csrf_checks=True)

    def get(
        self, path: str, *, user: str | None, as_json: bool = False, storefront: str | None = None
    ) -> Answer:
        answer = self.client.get(path, headers=account_headers(user, as_json, storefront))
        return Answer(answer.status_code, answer.content.decode(), answer.get("Location"))

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
        client = self.strict if cross_site else self.client
        headers = account_headers(user, as_json, storefront)
        if as_json:
            answer = client.post(
                path, json.dumps(data), content_type="application/json", headers=headers
            )
        else:
            answer = client.post(path, data, headers=headers)
        return Answer(answer.status_code, answer.content.decode(), answer.get("Location"))


@pytest.fixture
def kit(
    stripe_emulator: RunningEmulator, products: Path, settings: Any, flows: Flows
) -> Iterator[StripeKit]:
    """The project's kit on the emulator, with the billing flows' products and keys."""
    settings.STRIPEKIT = {
        **settings.STRIPEKIT,
        "SECRET_KEY": SECRET_KEY,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "API_BASE": stripe_emulator.api_base,
        "PRODUCTS": str(products),
        "BASE_URL": "http://shop.test",
        "BUYER": buyer_from_header,
        # By its dotted path, as a project names it (None without X-Storefront).
        "CONNECTED_ACCOUNT": "account_scenarios.storefront_account",
    }
    reset_kit()
    yield get_kit()
    reset_kit()


@pytest.fixture
def http(kit: StripeKit) -> AccountHttp:
    return _Client()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_account(name: str, http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    assert kit.billing_on  # the Django store keeps the billing state
    SCENARIOS[name](http, kit, flows)


@pytest.mark.parametrize("name", sorted(CONNECT_SCENARIOS))
def test_connect(name: str, http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    """The views on a connected account's storefront (STRIPEKIT["CONNECTED_ACCOUNT"])."""
    CONNECT_SCENARIOS[name](http, kit, flows)
