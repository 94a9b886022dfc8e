"""What an app does to the billing state: cancel, resume, change a plan, retry a payment, refund.

Each operation is one call to Stripe; its effect comes back through the
webhook path like any change, and the object Stripe answers with is also
written into the mirror at once (only if no event has moved the row since it
was read, so an answer never overwrites newer state): a page shown right after
the call already says "cancels on March 1".

Called with ``user=``, an operation acts only on that user's own subscription,
purchase or invoice, as the mirror knows them: an id that is another user's
(or unknown) raises UnknownBillingObjectError (a 404), and nothing is sent to
Stripe. Without ``user`` (an admin, a script) any id goes.

Connect: an object lives in one account, and its row says which. Every call
about it is made in that account (``Stripe-Account``), a plan's price is found
among that account's prices, and the answer is written back in that account.
``account=`` says which account the object must be in: ``ALL_ACCOUNTS`` (the
default) wherever the mirror has it, None the platform's only, ``"acct_..."``
that connected account's only; an object elsewhere is refused as unknown. An
object the mirror does not know (no ``user``) is acted on in the account named,
the platform's for ``ALL_ACCOUNTS``.

As in the mirror, each operation is written once as a generator of steps
(``_Call`` to Stripe, ``_Run`` on the store) with a sync and an async driver.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from stripekit._connect import account_options
from stripekit._errors import BillingError, StripeAPIError, UnknownBillingObjectError

from ._models import Subscription
from ._projection import Mirror
from ._rows import invoice_row, row_for, subscription
from ._store import ALL_ACCOUNTS, BillingWriter, Kind, Row, check_account, in_account

if TYPE_CHECKING:
    import stripe

    from stripekit.catalog._catalog import Catalog
    from stripekit.catalog._prices import PriceResolver

__all__ = ["Operations", "PlanChangePreview", "Proration", "RefundResult"]

T = TypeVar("T")

Proration = Literal["create_prorations", "always_invoice", "none"]
_PRORATIONS = ("create_prorations", "always_invoice", "none")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_LIVE = ("active", "trialing", "past_due")


@dataclass(frozen=True, slots=True)
class PlanChangePreview:
    """What a plan change would bill, from Stripe's invoice preview.

    Attributes:
        proration: the prorations' sum: the credit for the unused time of the old
            price and the charge for the rest of the period on the new one
            (negative: a credit).
        amount_due: what the previewed invoice would charge (at once with
            ``always_invoice``, else at the next renewal).
        currency: the invoice's currency.
        proration_date: the moment the prorations are computed for (None without
            prorations); pass it to ``change_plan`` to be billed exactly this.
    """

    proration: int
    amount_due: int
    currency: str
    proration_date: int | None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """A refund Stripe made: its id, amount and status (``succeeded``, ``pending``...)."""

    id: str
    amount: int
    status: str


@dataclass(frozen=True, slots=True)
class _Call:
    sync: Callable[[], Any]
    async_: Callable[[], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Run:
    work: Callable[[BillingWriter], Any]


_Step = _Call | _Run


class Operations:
    """Billing operations (``kit.billing.cancel(...)`` and the others); see the module."""

    def __init__(
        self,
        mirror: Mirror,
        client_factory: Callable[[], stripe.StripeClient],
        *,
        catalog: Catalog | None,
        prices: PriceResolver | None,
    ) -> None:
        self._mirror = mirror
        self._client_factory = client_factory
        self._catalog = catalog
        self._prices = prices

    # -- drivers --------------------------------------------------------------------------

    def _sync(self, steps: Generator[_Step, Any, T]) -> T:
        from stripekit._stripe_api import call_stripe

        answer: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = steps.send(answer) if error is None else steps.throw(error)
            except StopIteration as done:
                result: T = done.value
                return result
            answer, error = None, None
            if isinstance(step, _Run):
                answer = self._mirror.store.run(step.work)
                continue
            # Stripe's refusal goes back into the steps: some are an answer (a declined
            # retry), the rest propagate from there.
            try:
                answer = _plain(call_stripe(step.sync))
            except StripeAPIError as exc:
                error = exc

    async def _async(self, steps: Generator[_Step, Any, T]) -> T:
        from stripekit._stripe_api import acall_stripe

        answer: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = steps.send(answer) if error is None else steps.throw(error)
            except StopIteration as done:
                result: T = done.value
                return result
            answer, error = None, None
            if isinstance(step, _Run):
                answer = await self._mirror.store.arun(step.work)
                continue
            # Stripe's refusal goes back into the steps: some are an answer (a declined
            # retry), the rest propagate from there.
            try:
                answer = _plain(await acall_stripe(step.async_))
            except StripeAPIError as exc:
                error = exc

    # -- subscriptions --------------------------------------------------------------------

    def cancel(
        self,
        subscription_id: str,
        *,
        at_period_end: bool = True,
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> Subscription:
        """Cancel a subscription: at the end of its period (the default), or now.

        Example:
            >>> kit.billing.cancel("sub_1Q...", user="user-42")  # doctest: +SKIP
            Subscription(id='sub_1Q...', status='active', cancel_at_period_end=True, ...)
        """
        return self._sync(self._cancel(subscription_id, at_period_end, user, account))

    async def acancel(
        self,
        subscription_id: str,
        *,
        at_period_end: bool = True,
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> Subscription:
        """Async twin of ``cancel``."""
        return await self._async(self._cancel(subscription_id, at_period_end, user, account))

    def cancel_now(
        self, subscription_id: str, *, user: str | None = None, account: str | None = ALL_ACCOUNTS
    ) -> Subscription:
        """Cancel a subscription at once (access ends now)."""
        return self._sync(self._cancel(subscription_id, False, user, account))

    async def acancel_now(
        self, subscription_id: str, *, user: str | None = None, account: str | None = ALL_ACCOUNTS
    ) -> Subscription:
        """Async twin of ``cancel_now``."""
        return await self._async(self._cancel(subscription_id, False, user, account))

    def resume(
        self, subscription_id: str, *, user: str | None = None, account: str | None = ALL_ACCOUNTS
    ) -> Subscription:
        """Undo a scheduled cancel (``cancel_at_period_end``): the subscription renews again."""
        return self._sync(self._resume(subscription_id, user, account))

    async def aresume(
        self, subscription_id: str, *, user: str | None = None, account: str | None = ALL_ACCOUNTS
    ) -> Subscription:
        """Async twin of ``resume``."""
        return await self._async(self._resume(subscription_id, user, account))

    def change_plan(
        self,
        subscription_id: str,
        price_or_product: str,
        *,
        proration: Proration = "create_prorations",
        proration_date: int | None = None,
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> Subscription:
        """Move a subscription to another price: a catalog product key (its default
        price), ``product:price`` (one of its prices), or a Stripe price id.

        ``proration`` is Stripe's ``proration_behavior``: ``create_prorations`` (the
        difference joins the next invoice), ``always_invoice`` (billed at once) or
        ``none``. Pass a preview's ``proration_date`` to be billed what it said.
        """
        steps = self._change(
            subscription_id, price_or_product, proration, proration_date, user, account
        )
        return self._sync(steps)

    async def achange_plan(
        self,
        subscription_id: str,
        price_or_product: str,
        *,
        proration: Proration = "create_prorations",
        proration_date: int | None = None,
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> Subscription:
        """Async twin of ``change_plan``."""
        steps = self._change(
            subscription_id, price_or_product, proration, proration_date, user, account
        )
        return await self._async(steps)

    def preview_change(
        self,
        subscription_id: str,
        price_or_product: str,
        *,
        proration: Proration = "create_prorations",
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> PlanChangePreview:
        """What ``change_plan`` would bill, from Stripe's invoice preview (nothing changes)."""
        return self._sync(
            self._preview(subscription_id, price_or_product, proration, user, account)
        )

    async def apreview_change(
        self,
        subscription_id: str,
        price_or_product: str,
        *,
        proration: Proration = "create_prorations",
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> PlanChangePreview:
        """Async twin of ``preview_change``."""
        return await self._async(
            self._preview(subscription_id, price_or_product, proration, user, account)
        )

    # -- invoices and payments ------------------------------------------------------------

    def retry_payment(
        self, invoice_id: str, *, user: str | None = None, account: str | None = ALL_ACCOUNTS
    ) -> str:
        """Pay an open invoice now (a failed renewal), with the customer's default card;
        its status after the attempt (``paid``, or ``open`` if it was declined again)."""
        return self._sync(self._retry(invoice_id, user, account))

    async def aretry_payment(
        self, invoice_id: str, *, user: str | None = None, account: str | None = ALL_ACCOUNTS
    ) -> str:
        """Async twin of ``retry_payment``."""
        return await self._async(self._retry(invoice_id, user, account))

    def refund(
        self,
        purchase_or_payment_intent: str,
        *,
        amount: int | None = None,
        reason: str | None = None,
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> RefundResult:
        """Give money back for a purchase (a checkout ``cs_...``) or a payment (``pi_...``):
        all that is left, or ``amount`` (minor units). ``reason`` is Stripe's: duplicate,
        fraudulent or requested_by_customer."""
        return self._sync(self._refund(purchase_or_payment_intent, amount, reason, user, account))

    async def arefund(
        self,
        purchase_or_payment_intent: str,
        *,
        amount: int | None = None,
        reason: str | None = None,
        user: str | None = None,
        account: str | None = ALL_ACCOUNTS,
    ) -> RefundResult:
        """Async twin of ``refund``."""
        return await self._async(
            self._refund(purchase_or_payment_intent, amount, reason, user, account)
        )

    # -- the steps, written once ------------------------------------------------------------

    def _owned(
        self, kind: Kind, object_id: str, user: str | None, account: str | None
    ) -> Generator[_Step, Any, Row]:
        """The row of an object the caller may act on; UnknownBillingObjectError otherwise.

        The row says which account the object lives in: every call about it is made
        there. An object the mirror does not know (an admin's, before its events came) is
        acted on in ``account`` (the platform for ALL_ACCOUNTS)."""
        if not isinstance(object_id, str) or not object_id:
            raise UnknownBillingObjectError(f"no {_NAMES[kind]} given")
        check_account(account, every=True)

        def read(tx: BillingWriter) -> Row | None:
            row = tx.get(kind, object_id)
            if row is None or user is None:
                return row
            # The user's customers in the object's own account: a link is per account.
            return row if _owns(row, user, set(tx.customers_of(user, row.account))) else None

        row: Row | None = yield _Run(read)
        if row is None:
            if user is None:
                # No user to protect: act on what Stripe has, even before its events came.
                where = None if account == ALL_ACCOUNTS else account
                return Row(kind, object_id, {}, {}, 0, account=where)
            raise UnknownBillingObjectError(f"no {_NAMES[kind]} {object_id} of yours")
        if not in_account(row.account, account):
            if user is not None:  # a stranger learns nothing of where it is
                raise UnknownBillingObjectError(f"no {_NAMES[kind]} {object_id} of yours")
            raise UnknownBillingObjectError(
                f"{_NAMES[kind]} {object_id} is in {_account_name(row.account)}, "
                f"not in {_account_name(account)}"
            )
        return row

    def _cancel(
        self, subscription_id: str, at_period_end: bool, user: str | None, account: str | None
    ) -> Generator[_Step, Any, Subscription]:
        row = yield from self._owned(Kind.SUBSCRIPTION, subscription_id, user, account)
        if row.columns.get("status") not in (*_LIVE, None):
            raise BillingError(f"subscription {subscription_id} is {row['status']} already")
        subs = self._client_factory().v1.subscriptions
        options = account_options(row.account)
        if at_period_end:
            params: Any = {"cancel_at_period_end": True}
            obj = yield _Call(
                lambda: subs.update(subscription_id, params, options),
                lambda: subs.update_async(subscription_id, params, options),
            )
        else:
            obj = yield _Call(
                lambda: subs.cancel(subscription_id, None, options),
                lambda: subs.cancel_async(subscription_id, None, options),
            )
        return (yield from self._apply_subscription(obj, row))

    def _resume(
        self, subscription_id: str, user: str | None, account: str | None
    ) -> Generator[_Step, Any, Subscription]:
        row = yield from self._owned(Kind.SUBSCRIPTION, subscription_id, user, account)
        if (
            row.version
            and not row.data.get("cancel_at_period_end")
            and not row.data.get("cancel_at")
        ):
            raise BillingError(f"subscription {subscription_id} has no cancel to undo")
        subs = self._client_factory().v1.subscriptions
        params: Any = {"cancel_at_period_end": False}
        options = account_options(row.account)
        obj = yield _Call(
            lambda: subs.update(subscription_id, params, options),
            lambda: subs.update_async(subscription_id, params, options),
        )
        return (yield from self._apply_subscription(obj, row))

    def _change(
        self,
        subscription_id: str,
        target: str,
        proration: str,
        proration_date: int | None,
        user: str | None,
        account: str | None,
    ) -> Generator[_Step, Any, Subscription]:
        row = yield from self._owned(Kind.SUBSCRIPTION, subscription_id, user, account)
        params: Any = yield from self._change_params(row, target, proration)
        if proration_date is not None:
            params["proration_date"] = proration_date
        subs = self._client_factory().v1.subscriptions
        options = account_options(row.account)
        obj = yield _Call(
            lambda: subs.update(subscription_id, params, options),
            lambda: subs.update_async(subscription_id, params, options),
        )
        return (yield from self._apply_subscription(obj, row))

    def _preview(
        self,
        subscription_id: str,
        target: str,
        proration: str,
        user: str | None,
        account: str | None,
    ) -> Generator[_Step, Any, PlanChangePreview]:
        row = yield from self._owned(Kind.SUBSCRIPTION, subscription_id, user, account)
        params = yield from self._change_params(row, target, proration)
        invoices = self._client_factory().v1.invoices
        # No proration_date: Stripe prorates at its own now (a test clock may have moved
        # it), and the proration lines' period starts say which moment that was.
        details = {"items": params["items"], "proration_behavior": params["proration_behavior"]}
        preview_params: Any = {"subscription": subscription_id, "subscription_details": details}
        options = account_options(row.account)
        invoice = yield _Call(
            lambda: invoices.create_preview(preview_params, options),
            lambda: invoices.create_preview_async(preview_params, options),
        )
        lines = [line for line in (invoice.get("lines") or {}).get("data") or []]
        prorations = [line for line in lines if _is_proration(line)]
        starts = [int((line.get("period") or {}).get("start") or 0) for line in prorations]
        return PlanChangePreview(
            proration=sum(int(line.get("amount") or 0) for line in prorations),
            amount_due=int(invoice.get("amount_due") or 0),
            currency=str(invoice.get("currency") or ""),
            proration_date=min(starts) if starts else None,
        )

    def _change_params(
        self, row: Row, target: str, proration: str
    ) -> Generator[_Step, Any, dict[str, Any]]:
        if proration not in _PRORATIONS:
            raise BillingError(
                f"proration must be one of {', '.join(_PRORATIONS)}, not {proration!r}"
            )
        subscription_id = row.id
        price = yield from self._price_id(target, row.account)
        subs = self._client_factory().v1.subscriptions
        options = account_options(row.account)
        current = yield _Call(
            lambda: subs.retrieve(subscription_id, None, options),
            lambda: subs.retrieve_async(subscription_id, None, options),
        )
        items = (current.get("items") or {}).get("data") or []
        if len(items) != 1:
            raise BillingError(
                f"subscription {subscription_id} has {len(items)} items: change_plan moves a "
                "one-item subscription; update the others through the Stripe API"
            )
        if (items[0].get("price") or {}).get("id") == price:
            raise BillingError(f"subscription {subscription_id} is on that price already")
        return {
            "items": [{"id": items[0]["id"], "price": price}],
            "proration_behavior": proration,
        }

    def _price_id(self, target: str, account: str | None) -> Generator[_Step, Any, str]:
        """The price id of a plan, in the account the subscription lives in: a connected
        account's plans are its own prices, found by lookup key there."""
        if not isinstance(target, str) or not target:
            raise BillingError("say which plan: a product key, product:price, or a price_ id")
        if target.startswith("price_"):
            return target
        catalog, prices = self._catalog, self._prices
        if catalog is None or prices is None:
            raise BillingError(
                f"{target!r} is not a price id, and the kit has no products file to look it up"
            )
        product_key, _, price_key = target.partition(":")
        _, price = catalog.price(product_key, price_key or None)
        if catalog.get(product_key).mode != "subscription":
            raise BillingError(f"product {product_key!r} is a one-time purchase, not a plan")
        resolver = prices.for_account(account)
        found = yield _Call(
            lambda: resolver.resolve(price, catalog=catalog),
            lambda: resolver.aresolve(price, catalog=catalog),
        )
        return str(found)

    def _retry(
        self, invoice_id: str, user: str | None, account: str | None
    ) -> Generator[_Step, Any, str]:
        row = yield from self._owned(Kind.INVOICE, invoice_id, user, account)
        if row.columns.get("status") not in ("open", None):
            raise BillingError(
                f"invoice {invoice_id} is {row['status']}: only an open invoice can be paid"
            )
        invoices = self._client_factory().v1.invoices
        options = account_options(row.account)
        try:
            obj = yield _Call(
                lambda: invoices.pay(invoice_id, None, options),
                lambda: invoices.pay_async(invoice_id, None, options),
            )
        except StripeAPIError as exc:
            if exc.status == 402:
                return "open"  # declined again: the invoice stays open
            raise
        fresh = dataclasses.replace(
            invoice_row(obj, self._mirror.keys, row.version), account=row.account
        )
        yield _Run(lambda tx: _replace_if_unmoved(tx, fresh, row))
        return str(obj.get("status"))

    def _refund(
        self,
        target: str,
        amount: int | None,
        reason: str | None,
        user: str | None,
        account: str | None,
    ) -> Generator[_Step, Any, RefundResult]:
        if amount is not None and (
            not isinstance(amount, int) or isinstance(amount, bool) or amount < 1
        ):
            raise BillingError(
                f"amount must be a positive whole number of minor units, not {amount!r}"
            )
        if reason is not None and reason not in _REFUND_REASONS:
            raise BillingError(
                f"reason must be one of {', '.join(_REFUND_REASONS)}, not {reason!r}"
            )
        if isinstance(target, str) and target.startswith("pi_"):
            intent = target
            where = yield from self._payment_account(intent, user, account)
        else:
            row = yield from self._owned(Kind.PURCHASE, target, user, account)
            where = row.account
            intent = str(row.columns.get("payment_intent") or "")
            if not intent:
                sessions = self._client_factory().v1.checkout.sessions
                found = yield _Call(
                    lambda: sessions.retrieve(target, None, account_options(where)),
                    lambda: sessions.retrieve_async(target, None, account_options(where)),
                )
                intent = str(found.get("payment_intent") or "")
            if not intent:
                raise BillingError(f"purchase {target} has no payment to refund")
        params: Any = {"payment_intent": intent}
        if amount is not None:
            params["amount"] = amount
        if reason is not None:
            params["reason"] = reason
        refunds = self._client_factory().v1.refunds
        options = account_options(where)
        obj = yield _Call(
            lambda: refunds.create(params, options), lambda: refunds.create_async(params, options)
        )
        refund = dataclasses.replace(row_for(Kind.REFUND, obj, self._mirror.keys, 0), account=where)
        yield _Run(lambda tx: _replace_if_unmoved(tx, refund, None))
        return RefundResult(str(obj["id"]), int(obj.get("amount") or 0), str(obj.get("status")))

    def _payment_account(
        self, intent: str, user: str | None, account: str | None
    ) -> Generator[_Step, Any, str | None]:
        """The account a payment (``pi_...``) is refunded in: its purchase's, as the mirror
        knows it; with ``user``, only a payment of one of the user's purchases."""
        check_account(account, every=True)

        def read(tx: BillingWriter) -> list[Row]:
            found = [
                row
                for row in tx.find(Kind.PURCHASE, "payment_intent", [intent])
                if in_account(row.account, account)
            ]
            if user is None:
                return found
            return [p for p in found if _owns(p, user, set(tx.customers_of(user, p.account)))]

        purchases: list[Row] = yield _Run(read)
        if purchases:
            return purchases[0].account
        if user is not None:
            raise UnknownBillingObjectError(f"no payment {intent} of yours")
        return None if account == ALL_ACCOUNTS else account

    def _apply_subscription(self, obj: Any, before: Row) -> Generator[_Step, Any, Subscription]:
        # The answer keeps the row's account: it came from there (Stripe's object does
        # not say which account it lives in).
        fresh = dataclasses.replace(
            row_for(Kind.SUBSCRIPTION, obj, self._mirror.keys, before.version),
            account=before.account,
        )

        def write(tx: BillingWriter) -> Subscription:
            _replace_if_unmoved(tx, fresh, before)
            stored = tx.get(Kind.SUBSCRIPTION, fresh.id) or fresh
            customer = stored.columns.get("customer")
            user = tx.user_of(customer) if customer else None
            invoice_id = stored.data.get("latest_invoice")
            invoice = tx.get(Kind.INVOICE, invoice_id) if invoice_id else None
            status = invoice.columns.get("status") if invoice is not None else None
            return subscription(stored, user, status)

        result: Subscription = yield _Run(write)
        return result


def _owns(row: Row, user: str, customers: set[str]) -> bool:
    return row.columns.get("customer") in customers or row.columns.get("user_ref") == user


def _account_name(account: str | None) -> str:
    return "the platform's account" if account is None else f"account {account}"


_NAMES = {
    Kind.SUBSCRIPTION: "subscription",
    Kind.PURCHASE: "purchase",
    Kind.INVOICE: "invoice",
}


def _replace_if_unmoved(tx: BillingWriter, fresh: Row, before: Row | None) -> None:
    """Write an API answer over the row, unless an event moved it since it was read."""
    stored = tx.get(fresh.kind, fresh.id)
    # Events in the same second share a version: the event id tells them apart.
    moved = stored is not None and (
        before is None or (stored.version, stored.event) != (before.version, before.event)
    )
    if not moved:
        tx.replace(fresh)


def _is_proration(line: Any) -> bool:
    parent = line.get("parent") or {}
    for details in parent.values() if isinstance(parent, dict) else ():
        if isinstance(details, dict) and details.get("proration"):
            return True
    return bool(line.get("proration"))


def _plain(found: Any) -> Any:
    to_dict = getattr(found, "to_dict", None)
    return to_dict() if callable(to_dict) else found
