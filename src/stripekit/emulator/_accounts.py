"""Connected accounts (Connect): made by the platform, acted for with ``Stripe-Account``.

A minimal test-mode account: no onboarding, no requirements, charges and
payouts enabled. Each account's objects are its own: the state makes them in the
account a request acts for and finds only that account's (see ``State.acting``).
"""

from __future__ import annotations

from typing import Any

from stripe.params import AccountCreateParams, AccountListParams

from ._core import Emulator, metadata_update
from ._routes import route
from ._wire import StripeError

__all__: list[str] = []

_TYPES = ("standard", "express", "custom")


def _platform_only(emu: Emulator) -> None:
    if emu.state.acting is not None:
        raise StripeError(
            400,
            "Connected accounts are made and listed by the platform: send this request "
            "without a Stripe-Account header.",
        )


@route(
    "POST",
    "/v1/accounts",
    AccountCreateParams,
    honours=("type=standard|express|custom", "country", "email", "metadata", "business_type"),
)
def create_account(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    _platform_only(emu)
    kind = params.get("type") or "standard"
    if kind not in _TYPES:
        raise StripeError(400, f"Invalid type: must be one of {', '.join(_TYPES)}", param="type")
    return emu.state.new(
        "account",
        type=kind,
        country=params.get("country") or "US",
        email=params.get("email") or None,
        business_type=params.get("business_type") or None,
        default_currency="usd",
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        metadata=metadata_update({}, params.get("metadata", {})),
    )


@route("GET", "/v1/accounts/{id}")
def retrieve_account(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    _platform_only(emu)
    return emu.state.get("account", id)


@route("GET", "/v1/accounts", AccountListParams)
def list_accounts(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    _platform_only(emu)
    return emu.list_of(emu.state.all("account"), params, "/v1/accounts", "account")
