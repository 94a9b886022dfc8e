"""What an app asks of the billing state: ``kit.billing.is_subscribed(user, "pro")`` and friends.

Every query is one read of the store (``BillingStore.run``) written once, as a
function of a transaction; the sync methods run it in the caller's thread, the
async twins (``a``-prefixed, as ``aclose`` is to ``close``) without blocking
the event loop. ``user`` is always the app's own reference for the user: the
one checkout sent as ``client_reference_id`` (a Buyer's ``reference``).

Connect: every query takes ``account=``, the Stripe account whose billing state
it reads. ``None`` (the default) is the platform's own account: an app without
Connect never passes it. ``"acct_..."`` is that connected account's alone.
``ALL_ACCOUNTS`` is every account's together, for subscriptions, purchases and
entitlements; credits and the customer to reuse are always one account's (a
connected account's credits are not the platform's to spend).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from stripekit._errors import ConfigurationError

from ._models import CreditEntry, Entitlements, Purchase, Subscription
from ._operations import Operations
from ._products import ProductKeys
from ._projection import Mirror, dispute_status, refunded_amount, user_owner
from ._rows import purchase, subscription
from ._store import (
    BillingStore,
    BillingWriter,
    Kind,
    SpendOutcome,
    check_account,
    in_account,
)

if TYPE_CHECKING:
    import stripe

    from stripekit.catalog._catalog import Catalog
    from stripekit.catalog._prices import PriceResolver

__all__ = ["ACTIVE", "Billing", "Credits"]

T = TypeVar("T")

ACTIVE = ("active", "trialing")
"""Subscription statuses that give access (past_due too, within the grace period)."""

_LOST = ("lost",)
_MAX_KEY = 200


class Credits:
    """A user's credits: balance, history, and spending them.

    Example:
        >>> kit.billing.credits.balance("user-42")  # doctest: +SKIP
        120
        >>> kit.billing.credits.spend(  # doctest: +SKIP
        ...     "user-42", 10, "export", idempotency_key="job-9")
        True
    """

    def __init__(self, store: BillingStore) -> None:
        self._store = store

    def balance(self, user: str, *, account: str | None = None) -> int:
        """The user's credits now (in ``account``: a connected account's, None: the platform's)."""
        return self._store.run(_balance(user, account))

    async def abalance(self, user: str, *, account: str | None = None) -> int:
        """Async twin of ``balance``."""
        return await self._store.arun(_balance(user, account))

    def history(
        self, user: str, limit: int = 50, *, account: str | None = None
    ) -> list[CreditEntry]:
        """The user's ledger in ``account`` (None: the platform's), newest first: grants,
        spends, refunds taken back."""
        return self._store.run(_history(user, limit, account))

    async def ahistory(
        self, user: str, limit: int = 50, *, account: str | None = None
    ) -> list[CreditEntry]:
        """Async twin of ``history``."""
        return await self._store.arun(_history(user, limit, account))

    def spend(
        self,
        user: str,
        amount: int,
        reason: str,
        idempotency_key: str,
        *,
        account: str | None = None,
    ) -> bool:
        """Take ``amount`` credits (of ``account``'s ledger; None: the platform's); True if
        taken (now, or by an earlier call with the same key), False if the balance is smaller
        (nothing taken). Never below zero, whatever number of callers spend at once."""
        return self._store.run(_spend(user, amount, reason, idempotency_key, account))

    async def aspend(
        self,
        user: str,
        amount: int,
        reason: str,
        idempotency_key: str,
        *,
        account: str | None = None,
    ) -> bool:
        """Async twin of ``spend``."""
        return await self._store.arun(_spend(user, amount, reason, idempotency_key, account))


class Billing(Operations):
    """Who has paid for what: the queries on the billing mirror, and the operations on it
    (``cancel``, ``resume``, ``change_plan``, ``refund``...: see ``Operations``).

    Args:
        store: the mirror.
        keys: price → catalog product (and its features).
        grace: how long a ``past_due`` subscription keeps access after its period
            started (a failed renewal is retried meanwhile).
        clock: the time now (timezone-aware; tests pass their own).
        mirror: the kit's mirror (operations write Stripe's answers through it).
        client_factory: the Stripe client, for operations.
        catalog: the products, to turn a product key into a price for ``change_plan``.
        prices: finds a catalog price's Stripe id, for ``change_plan``.

    Example:
        >>> if kit.billing.is_subscribed(request.user.id, "pro"):  # doctest: +SKIP
        ...     show_pro_features()
    """

    def __init__(
        self,
        store: BillingStore,
        keys: ProductKeys,
        *,
        grace: timedelta = timedelta(days=3),
        clock: Callable[[], datetime] | None = None,
        mirror: Mirror | None = None,
        client_factory: Callable[[], stripe.StripeClient] | None = None,
        catalog: Catalog | None = None,
        prices: PriceResolver | None = None,
    ) -> None:
        super().__init__(
            mirror or Mirror(store, keys, client_factory),
            client_factory or _no_client,
            catalog=catalog,
            prices=prices,
        )
        self.store = store
        self.keys = keys
        self.grace = grace
        self._clock = clock or (lambda: datetime.now(UTC))
        self.credits = Credits(store)
        """The credits ledger (``balance``, ``history``, ``spend``)."""

    # -- subscriptions ---------------------------------------------------------------------

    def subscriptions(self, user: str, *, account: str | None = None) -> list[Subscription]:
        """The user's subscriptions, those giving access first, then the newest.

        ``account``: a connected account's (``acct_...``), ``ALL_ACCOUNTS``, or None (the
        default) for the platform's own (see the module).
        """
        return self.store.run(self._subscriptions(user, account))

    async def asubscriptions(self, user: str, *, account: str | None = None) -> list[Subscription]:
        """Async twin of ``subscriptions``."""
        return await self.store.arun(self._subscriptions(user, account))

    def is_subscribed(
        self, user: str, product: str | None = None, *, account: str | None = None
    ) -> bool:
        """Whether the user has a subscription giving access now (to ``product``, if named)
        in ``account`` (None: the platform's; see ``subscriptions``).

        Trialing counts; ``past_due`` counts within the grace period.
        """
        return self._subscribed(self.subscriptions(user, account=account), product)

    async def ais_subscribed(
        self, user: str, product: str | None = None, *, account: str | None = None
    ) -> bool:
        """Async twin of ``is_subscribed``."""
        return self._subscribed(await self.asubscriptions(user, account=account), product)

    def gives_access(self, sub: Subscription) -> bool:
        """Whether a subscription gives access now (its status, and the grace period)."""
        if sub.status in ACTIVE:
            return True
        if sub.status == "past_due":
            started = sub.current_period_start
            return started is None or self._clock() < started + self.grace
        return False

    # -- one-time purchases ----------------------------------------------------------------

    def purchases(self, user: str, *, account: str | None = None) -> list[Purchase]:
        """The user's one-time checkouts, newest first, with refunds and disputes
        (``account``: see ``subscriptions``)."""
        return self.store.run(self._purchases(user, account))

    async def apurchases(self, user: str, *, account: str | None = None) -> list[Purchase]:
        """Async twin of ``purchases``."""
        return await self.store.arun(self._purchases(user, account))

    def has_purchased(self, user: str, product: str, *, account: str | None = None) -> bool:
        """Whether the user paid for ``product`` and kept it (not fully refunded or lost
        to a dispute), in ``account`` (see ``subscriptions``)."""
        found = self.purchases(user, account=account)
        return any(product in p.products for p in self._kept(found))

    async def ahas_purchased(self, user: str, product: str, *, account: str | None = None) -> bool:
        """Async twin of ``has_purchased``."""
        found = await self.apurchases(user, account=account)
        return any(product in p.products for p in self._kept(found))

    # -- both --------------------------------------------------------------------------------

    def entitlements(self, user: str, *, account: str | None = None) -> Entitlements:
        """The catalog products the user holds now, and those products' features
        (``account``: see ``subscriptions``)."""
        return self._entitlements(
            self.subscriptions(user, account=account), self.purchases(user, account=account)
        )

    async def aentitlements(self, user: str, *, account: str | None = None) -> Entitlements:
        """Async twin of ``entitlements``."""
        return self._entitlements(
            await self.asubscriptions(user, account=account),
            await self.apurchases(user, account=account),
        )

    def customer_for(self, user: str, *, account: str | None = None) -> str | None:
        """The Stripe customer a checkout for this user in ``account`` (None: the platform)
        should reuse: the latest linked there; never another account's."""
        return self.store.run(_customer_for(user, account))

    async def acustomer_for(self, user: str, *, account: str | None = None) -> str | None:
        """Async twin of ``customer_for``."""
        return await self.store.arun(_customer_for(user, account))

    # -- the reads, written once ------------------------------------------------------------

    def _subscriptions(
        self, user: str, account: str | None
    ) -> Callable[[BillingWriter], list[Subscription]]:
        _check_user(user)
        check_account(account, every=True)

        def read(tx: BillingWriter) -> list[Subscription]:
            found = []
            for row in tx.find(Kind.SUBSCRIPTION, "customer", tx.customers_of(user, account)):
                if not in_account(row.account, account):
                    continue
                invoice_id = row.data.get("latest_invoice")
                invoice = tx.get(Kind.INVOICE, invoice_id) if invoice_id else None
                status = invoice.columns.get("status") if invoice is not None else None
                found.append(subscription(row, user, status))
            return sorted(
                found,
                key=lambda s: (
                    not self.gives_access(s),
                    -(s.current_period_start or _EPOCH).timestamp(),
                    s.id,
                ),
            )

        return read

    def _purchases(
        self, user: str, account: str | None
    ) -> Callable[[BillingWriter], list[Purchase]]:
        _check_user(user)
        check_account(account, every=True)

        def read(tx: BillingWriter) -> list[Purchase]:
            customers = tx.customers_of(user, account)
            rows = {r.id: r for r in tx.find(Kind.PURCHASE, "customer", customers)}
            rows.update({r.id: r for r in tx.find(Kind.PURCHASE, "user_ref", [user])})
            found = [
                purchase(row, user, refunded_amount(tx, row), dispute_status(tx, row))
                for row in rows.values()
                if row.columns.get("mode") == "payment" and in_account(row.account, account)
            ]
            return sorted(found, key=lambda p: (-(p.created or _EPOCH).timestamp(), p.id))

        return read

    def _subscribed(self, subs: list[Subscription], product: str | None) -> bool:
        return any(
            self.gives_access(sub) and (product is None or product in sub.products) for sub in subs
        )

    @staticmethod
    def _kept(purchases: list[Purchase]) -> list[Purchase]:
        return [
            p
            for p in purchases
            if p.status == "paid" and not p.fully_refunded and p.dispute not in _LOST
        ]

    def _entitlements(self, subs: list[Subscription], purchases: list[Purchase]) -> Entitlements:
        products = {key for sub in subs if self.gives_access(sub) for key in sub.products}
        products |= {key for p in self._kept(purchases) for key in p.products}
        features = {feature for key in products for feature in self.keys.features(key)}
        return Entitlements(frozenset(products), frozenset(features))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _no_client() -> stripe.StripeClient:
    raise ConfigurationError(
        "billing operations call Stripe: build Billing with client_factory= (kit.billing has one)"
    )


def _check_user(user: object) -> None:
    if not isinstance(user, str) or not user:
        raise ConfigurationError(
            f"a billing query takes the app's user reference (a non-empty string), not {user!r}"
        )


def _customer_for(user: str, account: str | None) -> Callable[[BillingWriter], str | None]:
    _check_user(user)
    check_account(account)

    def read(tx: BillingWriter) -> str | None:
        for customer in tx.customers_of(user, account):
            row = tx.get(Kind.CUSTOMER, customer)
            if row is None or not row.columns.get("deleted"):
                return customer
        return None

    return read


def _balance(user: str, account: str | None) -> Callable[[BillingWriter], int]:
    _check_user(user)
    check_account(account)
    return lambda tx: tx.balance(user_owner(user, account))


def _history(
    user: str, limit: int, account: str | None
) -> Callable[[BillingWriter], list[CreditEntry]]:
    _check_user(user)
    check_account(account)
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive whole number, not {limit!r}")
    return lambda tx: tx.history(user_owner(user, account), limit)


def _spend(
    user: str, amount: int, reason: str, key: str, account: str | None
) -> Callable[[BillingWriter], bool]:
    _check_user(user)
    check_account(account)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise ValueError(f"spend a positive whole number of credits, not {amount!r}")
    if not isinstance(key, str) or not 0 < len(key) <= _MAX_KEY:
        raise ValueError(
            f"idempotency_key must be a string of 1 to {_MAX_KEY} characters: the same key "
            "for a retried spend, so that it is taken once"
        )

    def write(tx: BillingWriter) -> bool:
        # A key is unique per ledger: the same key spent on two accounts is two spends.
        scoped = key if account is None else f"{account}:{key}"
        outcome = tx.spend(user_owner(user, account), amount, reason, scoped)
        return outcome is not SpendOutcome.INSUFFICIENT

    return write
