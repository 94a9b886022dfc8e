"""From events to the mirror: what each event writes, guarded by the event's ``created``.

The rules that make the mirror equal Stripe's state whatever the order:

- a row is written from the object an event carries, never from its type
  alone, and only over a row written from an older event;
- a tie (another event of the same second wrote the row) is settled by
  fetching the object as it is now, and so is a doubt: an event that names an
  object without carrying it (``invoice.paid`` and its subscription, a
  completed subscription checkout);
- what an event adds on top (a customer's link to a user, credits) is derived
  from the stored rows inside the same transaction, and is unique by source:
  a replay or a duplicate finds it done.

A connected account's event (Connect: its ``account``) writes rows of that
account (``Row.account``), links its customers in that account, and grants
credits to the user's ledger of that account (``user_owner``): a user who buys
on two connected accounts and on the platform has three customers, three
ledgers, and a query of one account sees only that account's.

The steps are written once, as a generator that yields what it needs done
(``_Fetch``, ``_LineItems``, ``_Price`` from Stripe; ``_Run`` on the store),
and two drivers run them: ``apply`` (sync, for Django and ``handle_webhook``)
and ``aapply`` (async, for the FastAPI route).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stripekit._errors import ConfigurationError, StripeAPIError

from ._products import ProductKeys
from ._rows import (
    PAID,
    intent_purchase_row,
    intent_purchase_status,
    invoice_price_ids,
    invoice_row,
    invoice_subscription,
    is_kit_intent,
    purchase_lines,
    purchase_row,
    purchase_status,
    row_for,
    user_in,
)
from ._store import BillingStore, BillingWriter, Kind, PutResult, Row

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions

    from stripekit.webhooks._event import Event

__all__ = ["EVENT_PATTERNS", "Mirror", "owner_of", "user_owner"]

logger = logging.getLogger("stripekit.billing")

EVENT_PATTERNS = (
    "customer.*",
    "checkout.session.*",
    "invoice.*",
    "charge.*",
    "refund.*",
    "payment_intent.*",
)
"""The event types the mirror's handler is registered for (it skips the others inside)."""

CREDITED_INVOICES = ("subscription_create", "subscription_cycle")
"""Invoices whose payment grants a subscription's credits: a new period that was paid
for (not a proration, not a trial's $0 invoice)."""

_OBJECT_KINDS = {
    "customer": Kind.CUSTOMER,
    "subscription": Kind.SUBSCRIPTION,
    "invoice": Kind.INVOICE,
    "checkout.session": Kind.PURCHASE,
    "charge": Kind.CHARGE,
    "refund": Kind.REFUND,
    "dispute": Kind.DISPUTE,
}


@dataclass(frozen=True, slots=True)
class _Stamp:
    """Which event a write comes from: its ``created`` (the row's version), its id, and
    the connected account it is about (None: the platform)."""

    version: int
    event: str
    account: str | None = None

    def on(self, row: Row) -> Row:
        return dataclasses.replace(
            row, version=self.version, event=self.event, account=self.account
        )


@dataclass(frozen=True, slots=True)
class _Fetch:
    kind: Kind
    id: str


@dataclass(frozen=True, slots=True)
class _LineItems:
    session: str


@dataclass(frozen=True, slots=True)
class _Price:
    id: str


@dataclass(frozen=True, slots=True)
class _Run:
    work: Callable[[BillingWriter], Any]


_Step = _Fetch | _LineItems | _Price | _Run
_Steps = Generator[_Step, Any, None]


def user_owner(user: str, account: str | None = None) -> str:
    """The credits ledger of ``user`` in ``account``: ``user:<ref>`` on the platform,
    ``acct_...:user:<ref>`` on a connected account (no platform owner starts with acct_)."""
    return f"user:{user}" if account is None else f"{account}:user:{user}"


def owner_of(
    tx: BillingWriter, customer: str | None, user: str | None = None, account: str | None = None
) -> str | None:
    """Whose credits: the linked (or named) user's in ``account``, else the customer's until
    it is linked (customer ids are unique across accounts)."""
    if customer is not None:
        linked = tx.user_of(customer)
        if linked is not None:
            return user_owner(linked, account)
    if user:
        return user_owner(user, account)
    return f"customer:{customer}" if customer else None


class Mirror:
    """Applies events to the billing store.

    Args:
        store: where the mirror lives.
        keys: price → catalog product key (and the products' credits).
        client_factory: the Stripe client, for fetches (ties, line items, prices).
        refetch: ``"ties"`` (fetch only to settle a tie or a doubt) or ``"always"``
            (fetch every object an event names: one API call per event, no
            reasoning about order).
        clawback: whether a refund takes back the credits its purchase granted.
    """

    def __init__(
        self,
        store: BillingStore,
        keys: ProductKeys,
        client_factory: Callable[[], stripe.StripeClient] | None,
        *,
        refetch: str = "ties",
        clawback: bool = True,
    ) -> None:
        if refetch not in ("ties", "always"):
            raise ConfigurationError(
                f"billing refetch must be 'ties' or 'always', not {refetch!r} "
                "(STRIPEKIT_BILLING_REFETCH)"
            )
        self.store = store
        self.keys = keys
        self._client_factory = client_factory
        self.refetch_always = refetch == "always"
        self.clawback = clawback

    # -- the two drivers -----------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Apply one event (sync: Stripe calls and store writes in this thread)."""
        steps = self._steps(event)
        answer: Any = None
        while True:
            try:
                step = steps.send(answer)
            except StopIteration:
                return
            answer = self._do(step, event)

    async def aapply(self, event: Event) -> None:
        """Async twin of ``apply``."""
        steps = self._steps(event)
        answer: Any = None
        while True:
            try:
                step = steps.send(answer)
            except StopIteration:
                return
            answer = await self._ado(step, event)

    def _do(self, step: _Step, event: Event) -> Any:
        if isinstance(step, _Run):
            return self.store.run(step.work)
        from stripekit._stripe_api import call_stripe

        client = self._client()
        options = _options(event)
        try:
            if isinstance(step, _Fetch):
                found = call_stripe(
                    lambda: _retriever(client, step.kind, step.id)(step.id, None, options)
                )
            elif isinstance(step, _LineItems):
                found = call_stripe(lambda: _line_items(client, step.session, options))
            else:
                found = call_stripe(lambda: client.v1.prices.retrieve(step.id, None, options))
        except StripeAPIError as exc:
            return _missing(exc, step)
        return _plain(found)

    async def _ado(self, step: _Step, event: Event) -> Any:
        if isinstance(step, _Run):
            return await self.store.arun(step.work)
        from stripekit._stripe_api import acall_stripe

        client = self._client()
        options = _options(event)
        try:
            if isinstance(step, _Fetch):
                found = await acall_stripe(
                    lambda: _aretriever(client, step.kind, step.id)(step.id, None, options)
                )
            elif isinstance(step, _LineItems):
                found = await acall_stripe(lambda: _aline_items(client, step.session, options))
            else:
                found = await acall_stripe(
                    lambda: client.v1.prices.retrieve_async(step.id, None, options)
                )
        except StripeAPIError as exc:
            return _missing(exc, step)
        return _plain(found)

    def _client(self) -> stripe.StripeClient:
        if self._client_factory is None:
            raise ConfigurationError(
                "the billing state needs the Stripe API to settle ties and list a checkout's "
                "line items: set STRIPE_SECRET_KEY, or turn it off with STRIPEKIT_BILLING=false"
            )
        return self._client_factory()

    # -- what each event writes ----------------------------------------------------------

    def _steps(self, event: Event) -> _Steps:
        obj = event.object
        if obj.get("object") == "payment_intent" and not event.is_thin:
            if isinstance(obj.get("id"), str) and is_kit_intent(obj):
                yield from self._intent(
                    obj, _Stamp(int(event.payload["created"]), event.id, event.account)
                )
            return
        kind = _OBJECT_KINDS.get(str(obj.get("object")))
        if kind is None or not isinstance(obj.get("id"), str) or event.is_thin:
            return
        stamp = _Stamp(int(event.payload["created"]), event.id, event.account)
        if kind is Kind.PURCHASE:
            yield from self._session(event, obj, stamp)
        elif kind is Kind.INVOICE:
            yield from self._invoice(event, obj, stamp)
        else:
            yield from self._put(kind, obj, stamp)
            if kind in (Kind.CUSTOMER, Kind.SUBSCRIPTION):
                yield from self._link(_customer_of(obj), user_in(obj), stamp.account)
            if kind in (Kind.CHARGE, Kind.REFUND):
                yield from self._settle_purchase_of(obj.get("payment_intent"), obj)

    def _put(self, kind: Kind, obj: Mapping[str, Any], stamp: _Stamp) -> _Steps:
        """Write the object's row over older ones; settle a tie by fetching it now."""
        if not self.refetch_always:
            row = stamp.on(row_for(kind, obj, self.keys, stamp.version))
            result = yield _Run(lambda tx: tx.put(row))
            if result is not PutResult.TIE:
                return
        yield from self._put_current(kind, str(obj["id"]), stamp)

    def _put_current(self, kind: Kind, object_id: str, stamp: _Stamp) -> _Steps:
        current = yield _Fetch(kind, object_id)
        if current is None:
            return
        yield from self._learn_prices(current)
        row = stamp.on(row_for(kind, current, self.keys, stamp.version))
        yield _Run(lambda tx: tx.put(row, allow_equal=True))
        if kind is Kind.SUBSCRIPTION:
            yield from self._link(_customer_of(current), user_in(current), stamp.account)

    def _learn_prices(self, obj: Mapping[str, Any]) -> _Steps:
        """Make the price ids an invoice bills known (an invoice line names only the id)."""
        if obj.get("object") != "invoice":
            return
        for price_id in invoice_price_ids(obj):
            if not self.keys.knows(price_id):
                price = yield _Price(price_id)
                if price is not None:
                    self.keys.of_price(price)

    def _link(self, customer: str | None, user: str | None, account: str | None) -> _Steps:
        if customer is None or not user:
            return

        def link(tx: BillingWriter) -> None:
            if tx.link(customer, user, account) == user:
                # Credits granted to the customer before the link are the user's now.
                tx.move_credits(f"customer:{customer}", user_owner(user, account))

        yield _Run(link)

    # -- checkout sessions: purchases, and the subscription a checkout started ------------

    def _session(self, event: Event, session: Mapping[str, Any], stamp: _Stamp) -> _Steps:
        yield from self._link(_customer_of(session), _session_user(session), stamp.account)
        if session.get("status") != "complete":
            return  # an open or expired checkout: nothing was bought
        failed = event.type == "checkout.session.async_payment_failed"
        if not self.refetch_always:
            result = yield from self._put_session(session, stamp, failed, allow_equal=False)
            if result is PutResult.TIE:
                current = yield _Fetch(Kind.PURCHASE, str(session["id"]))
                if current is not None:
                    yield from self._put_session(current, stamp, failed, allow_equal=True)
        else:
            current = yield _Fetch(Kind.PURCHASE, str(session["id"]))
            if current is not None:
                yield from self._put_session(current, stamp, failed, allow_equal=True)
        subscription = _id(session.get("subscription"))
        if subscription is not None:
            # The checkout names the subscription it started without carrying it.
            yield from self._put_current(Kind.SUBSCRIPTION, subscription, stamp)

    def _put_session(
        self, session: Mapping[str, Any], stamp: _Stamp, failed: bool, *, allow_equal: bool
    ) -> Generator[_Step, Any, PutResult]:
        session_id = str(session["id"])
        wants_lines = session.get("mode") == "payment"
        listed: list[dict[str, Any]] | None = None
        while True:
            # One transaction reads what is kept (lines listed before, a failure) and
            # writes; it asks for the lines first when a paid session has none yet.
            def write(tx: BillingWriter, listed: Any = listed) -> PutResult | None:
                stored = tx.get(Kind.PURCHASE, session_id)
                lines = stored.data.get("lines") if stored is not None else None
                has_failed = failed or bool(stored is not None and stored.data.get("async_failed"))
                if lines is None:
                    lines = listed
                if lines is None and wants_lines and _paid(session, has_failed):
                    return None
                row = stamp.on(purchase_row(session, stamp.version, lines=lines, failed=has_failed))
                result = tx.put(row, allow_equal=allow_equal)
                kept = row if result is PutResult.APPLIED else tx.get(Kind.PURCHASE, session_id)
                if kept is not None and has_failed and not kept.data.get("async_failed"):
                    # The failure is a fact of the event, kept whatever wrote the row last.
                    kept = _with_failure(kept)
                    tx.replace(kept)
                self.settle_credits(tx, session_id, kept)
                return result

            result: PutResult | None = yield _Run(write)
            if result is not None:
                return result
            items = yield _LineItems(session_id)
            listed = purchase_lines(items or [], self.keys)

    # -- payment intents of the Payment Element: purchases of their own -------------------

    def _intent(self, intent: Mapping[str, Any], stamp: _Stamp) -> _Steps:
        """A ``kit.payments`` intent: a purchase once paid (or failed), written like a
        session's, under the same order guard; a tie is settled by fetching the intent."""
        yield from self._link(_customer_of(intent), user_in(intent), stamp.account)
        if not self.refetch_always:
            result = yield from self._put_intent(intent, stamp, allow_equal=False)
            if result is not PutResult.TIE:
                return
        current = yield _Fetch(Kind.PURCHASE, str(intent["id"]))
        if current is not None:
            yield from self._put_intent(current, stamp, allow_equal=True)

    def _put_intent(
        self, intent: Mapping[str, Any], stamp: _Stamp, *, allow_equal: bool
    ) -> Generator[_Step, Any, PutResult | None]:
        if intent_purchase_status(intent) is None:
            return None  # waiting for a card or for 3-D Secure: no purchase (yet)
        row = stamp.on(intent_purchase_row(intent, self.keys, stamp.version))

        def write(tx: BillingWriter) -> PutResult:
            result = tx.put(row, allow_equal=allow_equal)
            self.settle_credits(tx, row.id)
            return result

        result: PutResult = yield _Run(write)
        return result

    # -- invoices -------------------------------------------------------------------------

    def _invoice(self, event: Event, invoice: Mapping[str, Any], stamp: _Stamp) -> _Steps:
        yield from self._learn_prices(invoice)
        if not self.refetch_always:
            row = stamp.on(invoice_row(invoice, self.keys, stamp.version))
            result = yield _Run(lambda tx: self._write_invoice(tx, row, allow_equal=False))
            if result is PutResult.TIE:
                yield from self._put_invoice_now(str(invoice["id"]), stamp)
        else:
            yield from self._put_invoice_now(str(invoice["id"]), stamp)
        subscription = invoice_subscription(invoice)
        if subscription is not None and event.type in ("invoice.paid", "invoice.payment_failed"):
            # Paying (or failing to pay) an invoice moves its subscription (past_due,
            # active): the event says so without carrying the subscription.
            yield from self._put_current(Kind.SUBSCRIPTION, subscription, stamp)

    def _put_invoice_now(self, invoice_id: str, stamp: _Stamp) -> _Steps:
        current = yield _Fetch(Kind.INVOICE, invoice_id)
        if current is None:
            return
        yield from self._learn_prices(current)
        row = stamp.on(invoice_row(current, self.keys, stamp.version))
        yield _Run(lambda tx: self._write_invoice(tx, row, allow_equal=True))

    def _write_invoice(self, tx: BillingWriter, row: Row, *, allow_equal: bool) -> PutResult:
        result = tx.put(row, allow_equal=allow_equal)
        stored = tx.get(Kind.INVOICE, row.id)
        if stored is not None:
            self.grant_invoice_credits(tx, stored)
        return result

    def grant_invoice_credits(self, tx: BillingWriter, invoice: Row) -> None:
        """Grant a paid subscription invoice's credits (once per invoice and product)."""
        if invoice.columns.get("status") != "paid":
            return
        if invoice.data.get("billing_reason") not in CREDITED_INVOICES:
            return
        if not invoice.data.get("amount_paid"):
            return  # a trial's (or a fully discounted) invoice: nothing was paid for
        owner = owner_of(tx, invoice.columns.get("customer"), account=invoice.account)
        if owner is None:
            return
        for line in invoice.data.get("lines") or []:
            if line.get("proration"):
                continue
            credits = self.keys.credits(line.get("product")) * int(line.get("quantity") or 1)
            if credits:
                tx.grant(
                    owner,
                    credits,
                    f"{line['product']} x {line.get('quantity') or 1}, invoice {invoice.id}",
                    f"invoice:{invoice.id}:{line['product']}",
                )

    # -- credits of purchases: grants when paid, clawbacks when refunded ------------------

    def _settle_purchase_of(self, payment_intent: Any, obj: Mapping[str, Any]) -> _Steps:
        intent = _id(payment_intent)
        if intent is None:
            return

        def settle(tx: BillingWriter) -> None:
            for purchase in tx.find(Kind.PURCHASE, "payment_intent", [intent]):
                self.settle_credits(tx, purchase.id)

        yield _Run(settle)

    def settle_credits(
        self, tx: BillingWriter, session_id: str, purchase: Row | None = None
    ) -> None:
        """Grant a paid purchase's credits, and take back what its refunds call for
        (``purchase``: its row as just written, when the caller has it)."""
        if purchase is None:
            purchase = tx.get(Kind.PURCHASE, session_id)
        if purchase is None or purchase.columns.get("status") != "paid":
            return
        owner = owner_of(
            tx, purchase.columns.get("customer"), purchase.columns.get("user_ref"), purchase.account
        )
        if owner is None:
            return
        granted = 0
        for line in purchase.data.get("lines") or []:
            credits = self.keys.credits(line.get("product")) * int(line.get("quantity") or 1)
            if credits:
                # A Payment Element purchase is its intent; a Checkout one, its session.
                what = "payment" if session_id.startswith("pi_") else "checkout"
                source = f"{what}:{session_id}:{line['product']}"
                reason = f"{line['product']} x {line.get('quantity') or 1}, {what} {session_id}"
                tx.grant(owner, credits, reason, source)
                granted += credits
        if not (self.clawback and granted):
            return
        total = int(purchase.data.get("amount_total") or 0)
        refunded = refunded_amount(tx, purchase)
        if total <= 0 or refunded <= 0:
            return
        target = granted * min(refunded, total) // total
        done = -sum(e.amount for e in tx.entries_from(f"clawback:{session_id}:"))
        if target > done:
            tx.take_back(
                owner,
                target - done,
                f"refund of checkout {session_id}",
                f"clawback:{session_id}:{refunded}",
            )


def refunded_amount(tx: BillingWriter, purchase: Row) -> int:
    """How much of a purchase was given back: what its charges or its refunds say, the most."""
    intent = purchase.columns.get("payment_intent")
    if not intent:
        return 0
    charges = tx.find(Kind.CHARGE, "payment_intent", [intent])
    by_charges = sum(int(c.data.get("amount_refunded") or 0) for c in charges)
    refunds = tx.find(Kind.REFUND, "payment_intent", [intent])
    refunds += [
        r
        for r in tx.find(Kind.REFUND, "charge", [c.id for c in charges])
        if r.columns.get("payment_intent") != intent
    ]
    by_refunds = sum(
        int(r.data.get("amount") or 0) for r in refunds if r.columns.get("status") == "succeeded"
    )
    return max(by_charges, by_refunds)


def dispute_status(tx: BillingWriter, purchase: Row) -> str | None:
    """The status of the latest dispute of a purchase's payment."""
    intent = purchase.columns.get("payment_intent")
    if not intent:
        return None
    charges = [c.id for c in tx.find(Kind.CHARGE, "payment_intent", [intent])]
    disputes = {d.id: d for d in tx.find(Kind.DISPUTE, "payment_intent", [intent])}
    disputes.update({d.id: d for d in tx.find(Kind.DISPUTE, "charge", charges)})
    if not disputes:
        return None
    latest = max(disputes.values(), key=lambda d: (d.version, d.id))
    status = latest.columns.get("status")
    return str(status) if status is not None else None


# -- helpers -----------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _customer_of(obj: Mapping[str, Any]) -> str | None:
    if obj.get("object") == "customer":
        return _id(obj.get("id"))
    return _id(obj.get("customer"))


def _session_user(session: Mapping[str, Any]) -> str | None:
    reference = session.get("client_reference_id")
    return reference if isinstance(reference, str) and reference else user_in(session)


def _paid(session: Mapping[str, Any], failed: bool) -> bool:
    return purchase_status(session, failed) == "paid" or session.get("payment_status") in PAID


def _with_failure(row: Row) -> Row:
    data = {**row.data, "async_failed": True}
    columns = dict(row.columns)
    if columns.get("status") == "pending":
        columns["status"] = "failed"
    return dataclasses.replace(row, columns=columns, data=data)


def _retriever(client: stripe.StripeClient, kind: Kind, object_id: str) -> Callable[..., Any]:
    v1 = client.v1
    if kind is Kind.PURCHASE and object_id.startswith("pi_"):
        return v1.payment_intents.retrieve  # a Payment Element purchase
    return {
        Kind.CUSTOMER: v1.customers.retrieve,
        Kind.SUBSCRIPTION: v1.subscriptions.retrieve,
        Kind.INVOICE: v1.invoices.retrieve,
        Kind.PURCHASE: v1.checkout.sessions.retrieve,
        Kind.CHARGE: v1.charges.retrieve,
        Kind.REFUND: v1.refunds.retrieve,
        Kind.DISPUTE: v1.disputes.retrieve,
    }[kind]


def _aretriever(client: stripe.StripeClient, kind: Kind, object_id: str) -> Callable[..., Any]:
    v1 = client.v1
    if kind is Kind.PURCHASE and object_id.startswith("pi_"):
        return v1.payment_intents.retrieve_async
    return {
        Kind.CUSTOMER: v1.customers.retrieve_async,
        Kind.SUBSCRIPTION: v1.subscriptions.retrieve_async,
        Kind.INVOICE: v1.invoices.retrieve_async,
        Kind.PURCHASE: v1.checkout.sessions.retrieve_async,
        Kind.CHARGE: v1.charges.retrieve_async,
        Kind.REFUND: v1.refunds.retrieve_async,
        Kind.DISPUTE: v1.disputes.retrieve_async,
    }[kind]


def _options(event: Event) -> RequestOptions:
    """A connected account's event is about that account's objects: fetch them there."""
    return {"stripe_account": event.account} if event.account is not None else {}


def _line_items(client: stripe.StripeClient, session_id: str, options: RequestOptions) -> list[Any]:
    listed = client.v1.checkout.sessions.line_items.list(session_id, {"limit": 100}, options)
    return list(listed.auto_paging_iter())


async def _aline_items(
    client: stripe.StripeClient, session_id: str, options: RequestOptions
) -> list[Any]:
    listed = await client.v1.checkout.sessions.line_items.list_async(
        session_id, {"limit": 100}, options
    )
    return [item async for item in listed.auto_paging_iter()]


def _plain(found: Any) -> Any:
    """A StripeObject (or a list of them) as plain dicts and lists."""
    if isinstance(found, list):
        return [_plain(item) for item in found]
    to_dict = getattr(found, "to_dict", None)
    return to_dict() if callable(to_dict) else found


def _missing(exc: StripeAPIError, step: _Step) -> None:
    """A 404 means the object is gone (nothing to mirror); anything else fails the handler."""
    if exc.status == 404:
        logger.info("billing: %s is gone from Stripe; nothing to mirror", step)
        return None
    raise exc


def _ids(rows: Iterable[Row]) -> list[str]:
    return [row.id for row in rows]
