"""Repair: make the mirror match Stripe again by reading Stripe itself (``stripekit billing sync``).

Events are the mirror's input, so a mirror can only be as right as the events
that reached it: a database restored from a backup, an endpoint that was down
past Stripe's three days of retries, the billing state turned on in an app
that already had customers. ``repair`` lists what Stripe has (subscriptions,
checkout sessions, invoices, charges, refunds) for one user, one customer or
everyone, writes each object as it is now over whatever the mirror holds, and
settles links and credits exactly as events would. It says what changed.

Connect: a repair reads one account, the platform's (the default) or a
connected account's (``account="acct_..."``: every call sends ``Stripe-Account``,
since the platform's lists hold only its own objects), and writes what it reads
as that account's rows, links and credits, as that account's events would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stripekit._connect import account_options
from stripekit._errors import ConfigurationError

from ._projection import Mirror, user_owner
from ._rows import purchase_lines, purchase_row, row_for
from ._store import BillingStore, BillingWriter, Kind, Row, check_account

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions

__all__ = ["Change", "repair"]

_WATCHED = {
    Kind.SUBSCRIPTION: ("status", "cancel_at_period_end", "current_period_end", "items"),
    Kind.INVOICE: ("status", "amount_paid"),
    Kind.PURCHASE: ("status", "lines"),
    Kind.CHARGE: ("amount_refunded", "disputed"),
    Kind.REFUND: ("status", "amount"),
}


@dataclass(frozen=True, slots=True)
class Change:
    """One repair: an object the mirror lacked, or fields it had wrong."""

    kind: str
    id: str
    what: str
    """``new``, or ``status: past_due → active; ...``."""

    def __str__(self) -> str:
        return f"{self.kind} {self.id}: {self.what}"


def repair(
    mirror: Mirror,
    client: stripe.StripeClient,
    *,
    user: str | None = None,
    customer: str | None = None,
    since: datetime | None = None,
    account: str | None = None,
) -> list[Change]:
    """Read Stripe and write what it has over the mirror; the changes made.

    Args:
        mirror: the kit's mirror (its store, product keys and credit rules).
        client: a Stripe client.
        user: only this app user's customers (those the mirror links to them in
            ``account``).
        customer: only this customer (of ``account``).
        since: only checkout sessions, invoices, charges and refunds created since.
        account: the connected account (Connect, ``acct_...``) to read, with
            ``Stripe-Account``, and whose rows to write; None: the platform's own.

    Raises:
        ConfigurationError: both ``user`` and ``customer``, a user the mirror
            links to no customer, or an ``account`` that is not an ``acct_...`` id.
    """
    if user is not None and customer is not None:
        raise ConfigurationError("repair one user or one customer, not both")
    check_account(account)
    store = mirror.store
    customers: list[str | None]
    if user is not None:
        customers = list(store.run(lambda tx: tx.customers_of(user, account)))
        if not customers:
            where = "" if account is None else f" in account {account}"
            raise ConfigurationError(
                f"no customer is linked to user {user!r}{where} in the billing state: repair "
                "by customer (--customer cus_...) to link it"
            )
    else:
        customers = [customer]
    changes: list[Change] = []
    created = {"gte": int(since.timestamp())} if since is not None else None
    for who in customers:
        changes += _repair_for(mirror, client, who, created, account)
    return changes


def _repair_for(
    mirror: Mirror,
    client: stripe.StripeClient,
    customer: str | None,
    created: Any,
    account: str | None,
) -> list[Change]:
    v1 = client.v1
    keys = mirror.keys
    options = account_options(account)
    by_customer: dict[str, Any] = {"customer": customer} if customer else {}
    recent: dict[str, Any] = {**by_customer, **({"created": created} if created else {})}
    changes: list[Change] = []

    def write(row: Row, user: str | None = None) -> None:
        # What Stripe answered carries no account: the row is the account's it was read in.
        nonlocal changes
        changes += _write(mirror.store, dataclasses.replace(row, account=account), mirror, user)

    for sub in _all(v1.subscriptions.list, {**by_customer, "status": "all"}, options):
        write(row_for(Kind.SUBSCRIPTION, sub, keys, 0))
    for session in _all(v1.checkout.sessions.list, recent, options):
        lines = None
        if session.get("mode") == "payment" and session.get("status") == "complete":
            listed = v1.checkout.sessions.line_items.list(
                str(session["id"]), {"limit": 100}, options
            )
            lines = purchase_lines([_plain(i) for i in listed.auto_paging_iter()], keys)
        row = purchase_row(session, 0, lines=lines, failed=False)
        write(row, session.get("client_reference_id"))
    for invoice in _all(v1.invoices.list, recent, options):
        for price_id in _invoice_prices(invoice):
            if not keys.knows(price_id):
                keys.of_price(_plain(v1.prices.retrieve(price_id, None, options)))
        write(row_for(Kind.INVOICE, invoice, keys, 0))
    for charge in _all(v1.charges.list, recent, options):
        write(row_for(Kind.CHARGE, charge, keys, 0))
        intent = charge.get("payment_intent")
        if intent:
            for refund in _all(v1.refunds.list, {"payment_intent": intent}, options):
                write(row_for(Kind.REFUND, refund, keys, 0))
    return changes


def _write(store: BillingStore, row: Row, mirror: Mirror, user: str | None = None) -> list[Change]:
    def work(tx: BillingWriter) -> list[Change]:
        before = tx.get(row.kind, row.id)
        tx.replace(row)
        customer = row.columns.get("customer")
        linked_user = user or row.data.get("user")
        # A customer is linked, and its credits kept, in its own account (as events do).
        if customer and linked_user and tx.link(customer, linked_user, row.account) == linked_user:
            tx.move_credits(f"customer:{customer}", user_owner(linked_user, row.account))
        if row.kind is Kind.PURCHASE:
            mirror.settle_credits(tx, row.id)
        elif row.kind is Kind.INVOICE:
            stored = tx.get(Kind.INVOICE, row.id)
            if stored is not None:
                mirror.grant_invoice_credits(tx, stored)
        elif row.kind in (Kind.CHARGE, Kind.REFUND):
            intent = row.columns.get("payment_intent")
            for purchase in tx.find(Kind.PURCHASE, "payment_intent", [intent] if intent else []):
                mirror.settle_credits(tx, purchase.id)
        what = _difference(before, row)
        return [] if what is None else [Change(row.kind.value, row.id, what)]

    return store.run(work)


def _difference(before: Row | None, after: Row) -> str | None:
    if before is None or (before.version == 0 and not before.data):
        return "new"
    found = []
    for name in _WATCHED.get(after.kind, ()):
        old, new = before[name], after[name]
        if old != new:
            found.append(f"{name}: {_short(old)} → {_short(new)}")
    return "; ".join(found) or None


def _short(value: Any) -> str:
    if isinstance(value, list):
        products = [
            item.get("product") or item.get("price") for item in value if isinstance(item, Mapping)
        ]
        return ",".join(str(p) for p in products) or "[]"
    return str(value)


def _all(
    list_call: Callable[..., Any], params: dict[str, Any], options: RequestOptions
) -> Iterator[dict[str, Any]]:
    page = list_call({**params, "limit": 100}, options)
    for item in page.auto_paging_iter():
        yield _plain(item)


def _invoice_prices(invoice: Mapping[str, Any]) -> list[str]:
    from ._rows import invoice_price_ids

    return invoice_price_ids(invoice)


def _plain(found: Any) -> dict[str, Any]:
    to_dict = getattr(found, "to_dict", None)
    plain: dict[str, Any] = to_dict() if callable(to_dict) else dict(found)
    return plain
