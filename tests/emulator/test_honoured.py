"""What the emulator honours: every route is in the docs' table, anything else is refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import stripe

from stripekit.emulator._routes import ROUTES, route

DOCS = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


def documented() -> dict[str, set[str]]:
    section = DOCS.read_text(encoding="utf-8").split("## What each request honours", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(GET|POST|DELETE) (/v1/\S+)` \| (.+?) \|$", section, re.MULTILINE)
    table: dict[str, set[str]] = {}
    for method, path, cell in rows:
        key = f"{method} {path}"
        assert key not in table, f"{key} is in the table twice"
        table[key] = set() if cell == "—" else set(re.findall(r"`([^`]+)`", cell))
    return table


def test_the_docs_table_is_every_route_and_what_it_honours() -> None:
    served = {f"{r.method} {r.path}": {h.replace("|", "/") for h in r.honoured} for r in ROUTES}
    assert documented() == served


def test_a_param_the_emulator_cannot_honour_is_refused(client: stripe.StripeClient) -> None:
    monthly = client.v1.prices.create(
        {
            "product_data": {"name": "Pro"},
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
        }
    )
    params: Any = {
        "mode": "subscription",
        "line_items": [{"price": monthly.id}],
        "success_url": "https://x.test",
        "subscription_data": {"trial_period_days": 7, "description": "not honoured"},
    }
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params)
    assert refused.value.http_status == 400
    assert refused.value.user_message is not None
    assert refused.value.user_message.startswith("not emulated: subscription_data[description].")
    assert refused.value.param == "subscription_data[description]"
    assert client.v1.checkout.sessions.list().data == []  # nothing was made


def test_a_value_the_emulator_cannot_honour_is_refused(client: stripe.StripeClient) -> None:
    price = client.v1.prices.create(
        {"product_data": {"name": "Book"}, "currency": "usd", "unit_amount": 900}
    )
    params: Any = {
        "mode": "payment",
        "line_items": [{"price": price.id}],
        "success_url": "https://x.test",
        "billing_address_collection": "required",
    }
    with pytest.raises(stripe.InvalidRequestError, match=r"not emulated: billing_address_coll"):
        client.v1.checkout.sessions.create(params)
    params["billing_address_collection"] = "auto"
    assert client.v1.checkout.sessions.create(params).billing_address_collection == "auto"


def test_an_unknown_param_is_still_stripes_own_refusal(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: colour"):
        client.v1.products.create({"name": "P", "colour": "red"})  # type: ignore[typeddict-unknown-key]


def test_honours_must_name_params_stripe_declares() -> None:
    from stripe.params import ProductCreateParams

    with pytest.raises(ValueError, match="declares no 'colour'"):
        route("POST", "/v1/nowhere", ProductCreateParams, honours=("colour",))
    with pytest.raises(ValueError, match="declares no 'shade'"):
        route("POST", "/v1/nowhere", ProductCreateParams, honours=("default_price_data[shade]",))
    assert not any(r.path == "/v1/nowhere" for r in ROUTES)
