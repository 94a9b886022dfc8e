"""The billing store protocol: what the mirror needs of a database.

The mirror keeps a few kinds of Stripe objects (``Kind``), one row each, with
the ``created`` of the event the row was last written from (its version).
``put`` writes a row only over an older one, atomically in the database::

    put(row, version)   no row, or an older one  ──▶ APPLIED
                        a newer one              ──▶ STALE   (nothing written)
                        this same event's        ──▶ SAME    (a redelivery: nothing to do)
                        another event's, of the
                        same version             ──▶ TIE     (nothing written: the
                                                      caller fetches the object from
                                                      Stripe and puts it with
                                                      allow_equal=True)

Everything else it keeps: which app user a customer belongs to (``link``), and
a credits ledger whose grants are unique by source and whose spends never take
a balance below zero.

Every row records the Stripe account it belongs to (``Row.account``: a
connected account's ``acct_...`` for a Connect event's objects, None for the
platform's own), and a customer's link to a user is kept in the customer's
account: ``customers_of(user, account)`` answers one account's customers (the
platform's by default), or every account's with ``ALL_ACCOUNTS``.

All of it happens inside ``run(work)``: one transaction, committed when ``work``
returns, rolled back when it raises. The store a kit's events are recorded in
provides it (the SQL one on the same database and, with SQLite, in the same
batched commits), so an event's effects on the mirror are written as one.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from stripekit._connect import is_account_id
from stripekit._errors import ConfigurationError

from ._models import CreditEntry

__all__ = [
    "ALL_ACCOUNTS",
    "COLUMNS",
    "BillingStore",
    "BillingWriter",
    "Kind",
    "PutResult",
    "Row",
    "SpendOutcome",
    "check_account",
    "in_account",
]

T = TypeVar("T")

ALL_ACCOUNTS = "*"
"""The account filter of a billing query that means every account's rows: the
platform's and all its connected accounts' (``None`` means the platform's alone)."""


def check_account(account: object, *, every: bool = False) -> None:
    """Refuse an account filter that is not None, ``acct_...`` or (``every``) ALL_ACCOUNTS."""
    if account is None or is_account_id(account):
        return
    if every and account == ALL_ACCOUNTS:
        return
    allowed = "None (the platform), a connected account's 'acct_...'" + (
        " or ALL_ACCOUNTS" if every else " (one account's: not ALL_ACCOUNTS)"
    )
    raise ConfigurationError(f"account must be {allowed}, not {account!r}")


def in_account(row_account: str | None, account: str | None) -> bool:
    """Whether a row of ``row_account`` answers a filter of ``account``."""
    return account == ALL_ACCOUNTS or row_account == account


class Kind(enum.StrEnum):
    """The Stripe objects the mirror keeps."""

    CUSTOMER = "customer"
    SUBSCRIPTION = "subscription"
    INVOICE = "invoice"
    PURCHASE = "purchase"
    """A Checkout Session (one-time or not): purchases are those in payment mode."""
    CHARGE = "charge"
    REFUND = "refund"
    DISPUTE = "dispute"


COLUMNS: Mapping[Kind, tuple[str, ...]] = {
    Kind.CUSTOMER: ("email", "deleted"),
    Kind.SUBSCRIPTION: ("customer", "status"),
    Kind.INVOICE: ("customer", "subscription", "status"),
    Kind.PURCHASE: ("customer", "user_ref", "mode", "status", "payment_intent"),
    Kind.CHARGE: ("customer", "payment_intent"),
    Kind.REFUND: ("charge", "payment_intent", "status"),
    Kind.DISPUTE: ("charge", "payment_intent", "status"),
}
"""Each kind's columns besides ``id``, ``version`` and ``data``: what queries filter on.
A customer's link to a user is kept apart (``link``): no object write touches it."""


@dataclass(frozen=True, slots=True)
class Row:
    """One mirrored object: its id, the columns of its kind, and the rest as JSON."""

    kind: Kind
    id: str
    columns: Mapping[str, Any]
    data: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0
    """The ``created`` of the event it was written from (0: not from an event)."""
    event: str | None = None
    """The id of that event: its redelivery finds the row as it left it (SAME)."""
    account: str | None = None
    """The connected account (``acct_...``) the object lives in; None: the platform's."""

    def __getitem__(self, name: str) -> Any:
        if name in self.columns:
            return self.columns[name]
        return self.data.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        """A column, else a field of ``data``, else ``default``."""
        value = self[name]
        return default if value is None else value

    def stored_values(self) -> dict[str, Any]:
        """What a store writes for it besides its id: version, event, account, the JSON
        rest and its kind's columns (never a customer's link to its user)."""
        values: dict[str, Any] = {
            "version": self.version,
            "event": self.event,
            "account": self.account,
            "data": dict(self.data),
        }
        for name in COLUMNS[self.kind]:
            value = self.columns.get(name)
            values[name] = bool(value) if name == "deleted" else value
        return values


class PutResult(enum.Enum):
    """What ``put`` did."""

    APPLIED = "applied"
    SAME = "same"
    STALE = "stale"
    TIE = "tie"


class SpendOutcome(enum.Enum):
    """What ``spend`` did."""

    SPENT = "spent"
    INSUFFICIENT = "insufficient"
    """The balance is smaller than the amount: nothing was taken."""
    DUPLICATE = "duplicate"
    """A spend with this idempotency key was already made: nothing more was taken."""


class BillingWriter(Protocol):
    """The mirror's operations inside one transaction (``BillingStore.run``)."""

    def put(self, row: Row, *, allow_equal: bool = False) -> PutResult:
        """Write ``row`` over an older version (or the same one, with ``allow_equal``)."""
        ...

    def replace(self, row: Row) -> None:
        """Write ``row`` whatever the stored version, keeping the higher version (repairs)."""
        ...

    def get(self, kind: Kind, object_id: str) -> Row | None:
        """The stored row, or None."""
        ...

    def find(self, kind: Kind, column: str, values: Collection[str]) -> list[Row]:
        """Rows of ``kind`` whose ``column`` is one of ``values``."""
        ...

    def link(self, customer: str, user: str, account: str | None = None) -> str:
        """Link ``customer`` (of ``account``; None: the platform's) to ``user`` unless it is
        linked already; the user it is linked to."""
        ...

    def user_of(self, customer: str) -> str | None:
        """The app user a customer is linked to."""
        ...

    def customers_of(self, user: str, account: str | None = None) -> list[str]:
        """The customers of ``account`` (None: the platform's; ``ALL_ACCOUNTS``: every
        account's) linked to ``user``, the most recently linked first."""
        ...

    def grant(self, owner: str, amount: int, reason: str, source: str) -> bool:
        """Add credits; False (and nothing added) if ``source`` was granted already."""
        ...

    def spend(self, owner: str, amount: int, reason: str, key: str) -> SpendOutcome:
        """Take credits, never below zero; once per idempotency ``key``."""
        ...

    def take_back(self, owner: str, amount: int, reason: str, source: str) -> int:
        """Take up to ``amount`` back (not below zero), once per ``source``; how much."""
        ...

    def balance(self, owner: str) -> int:
        """The owner's credits now."""
        ...

    def history(self, owner: str, limit: int) -> list[CreditEntry]:
        """The owner's ledger, newest first."""
        ...

    def entries_from(self, prefix: str) -> list[CreditEntry]:
        """Every ledger entry whose source starts with ``prefix``."""
        ...

    def move_credits(self, from_owner: str, to_owner: str) -> None:
        """Give ``from_owner``'s ledger and balance to ``to_owner`` (a customer now linked)."""
        ...


@runtime_checkable
class BillingStore(Protocol):
    """Where the mirror lives; ``run`` is one transaction (see the module's docstring)."""

    blocking: bool
    """Whether ``run`` blocks (async callers then use ``arun``)."""

    def run(self, work: Callable[[BillingWriter], T]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises."""
        ...

    def arun(self, work: Callable[[BillingWriter], T]) -> Awaitable[T]:
        """Async twin of ``run``, not blocking the event loop."""
        ...
