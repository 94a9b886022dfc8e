"""Connect: what a connected account's id looks like, checked in one place for the whole kit.

A platform acts for a connected account by sending its id (``acct_...``) as
``Stripe-Account``. The id reaches the kit from the app's code (a query's
``account=``, a command's ``--account``) or from the app's resolver of the
account a request is for (the ready-made routes' ``connected_account``);
each of them is checked here, so that a typo or a value from the wrong place
is a clear error, never a request sent in the platform's name instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._errors import CheckoutError, ConfigurationError

if TYPE_CHECKING:
    from stripe import RequestOptions

__all__ = ["ACCOUNT_ID", "account_argument", "account_options", "is_account_id", "resolved_account"]

ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,250}")
"""A connected account's id as Stripe makes them: ``acct_`` and letters or digits."""

_SHOWN = 60


def is_account_id(value: object) -> bool:
    """Whether ``value`` is a connected account's id (``acct_1Nv0FGQ9RKHgCVdK``).

    Example:
        >>> is_account_id("acct_1Nv0FGQ9RKHgCVdK"), is_account_id("acct_"), is_account_id(None)
        (True, False, False)
    """
    return isinstance(value, str) and ACCOUNT_ID.fullmatch(value) is not None


def account_argument(stripe_account: object) -> str | None:
    """A ``stripe_account=`` argument of a call that makes something in Stripe, checked:
    None or an ``acct_...`` id; anything else is a CheckoutError (refused before Stripe,
    and never a cache entry of its own in the price resolver).

    Example:
        >>> account_argument(None), account_argument("acct_1Nv0FGQ9RKHgCVdK")
        (None, 'acct_1Nv0FGQ9RKHgCVdK')
    """
    if stripe_account is None:
        return None
    if isinstance(stripe_account, str) and is_account_id(stripe_account):
        return stripe_account
    raise CheckoutError(
        f"stripe_account must be a connected account's id (acct_...), not {stripe_account!r}"
    )


def resolved_account(value: object, *, source: str) -> str | None:
    """What an app's resolver of the request's connected account answered, checked.

    ``None`` is the platform's own account; an ``acct_...`` id is that connected
    account. Anything else is the app's mistake, refused rather than taken as the
    platform (which would sell, or show, the platform's billing on a connected
    account's storefront).

    Args:
        value: what the resolver returned.
        source: the resolver as the app configured it, named in the error
            (``STRIPEKIT["CONNECTED_ACCOUNT"]``, ``stripekit_router(connected_account=...)``).

    Raises:
        ConfigurationError: ``value`` is neither None nor an ``acct_...`` id.

    Example:
        >>> resolved_account("acct_1Nv0FGQ9RKHgCVdK", source="the resolver")
        'acct_1Nv0FGQ9RKHgCVdK'
    """
    if value is None:
        return None
    if isinstance(value, str) and is_account_id(value):
        return value
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 3] + "..."
    raise ConfigurationError(
        f"{source} returned {shown}: it must return a connected account's id (acct_ then "
        "letters or digits, as Stripe gives it) for a connected account's storefront, or "
        "None for the platform's own"
    )


def account_options(stripe_account: str | None) -> RequestOptions:
    """The request options of a call made for ``stripe_account``: ``Stripe-Account`` for a
    connected account, none for the platform's own (None)."""
    return {"stripe_account": stripe_account} if stripe_account is not None else {}
