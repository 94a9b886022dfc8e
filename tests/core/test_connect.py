"""The one check of a connected account's id (``stripekit._connect``), whatever asks for it:
an app's resolver of the request's account, a query's ``account=``, a command's ``--account``."""

from __future__ import annotations

import pytest

from stripekit import ALL_ACCOUNTS, ConfigurationError
from stripekit._connect import account_options, is_account_id, resolved_account
from stripekit.billing._store import check_account


@pytest.mark.parametrize("value", ["acct_1Nv0FGQ9RKHgCVdK", "acct_a", "acct_" + "9" * 250])
def test_a_connected_accounts_id_passes(value: str) -> None:
    assert is_account_id(value)
    assert resolved_account(value, source="the resolver") == value
    check_account(value)
    assert account_options(value) == {"stripe_account": value}


def test_none_is_the_platforms_own() -> None:
    assert resolved_account(None, source="the resolver") is None
    assert account_options(None) == {}


@pytest.mark.parametrize(
    "value",
    [
        "", "acct_", "acct", "ACCT_1", "acct_1 ", " acct_1", "acct_1\n", "acct_1;2", "acct_é",
        "acct_" + "9" * 251, "cus_123", "platform", ALL_ACCOUNTS, 42, b"acct_1", ["acct_1"],
    ],
)  # fmt: skip
def test_anything_else_is_the_apps_mistake_and_says_what_to_return(value: object) -> None:
    assert not is_account_id(value)
    with pytest.raises(ConfigurationError) as refused:
        resolved_account(value, source='STRIPEKIT["CONNECTED_ACCOUNT"] (shop.accounts.of)')
    message = str(refused.value)
    assert message.startswith('STRIPEKIT["CONNECTED_ACCOUNT"] (shop.accounts.of) returned ')
    assert "acct_" in message and "or None for the platform's own" in message


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(ConfigurationError) as refused:
        resolved_account("x" * 10_000, source="the resolver")
    assert len(str(refused.value)) < 300 and "xxx..." in str(refused.value)
