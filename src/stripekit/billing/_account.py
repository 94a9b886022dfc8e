"""The account page: what a signed-in buyer sees of their billing, and what they may do there.

Framework-neutral, like ``shop._views``: an integration turns ``GET /account``
into ``account`` (the page's content, one read of the mirror) and
``POST /account/<action>`` into ``AccountAction.parse`` then ``run_action``;
it only translates requests and responses.

Every action runs as the signed-in user (``user=``): the operations refuse
another user's subscription or invoice with a 404.

Connect: the page is one account's billing, ``account``: the platform's own
(None, the default) or a connected account's (``acct_...``, what the app's
resolver of the request's account says: the storefront of that account). It
shows that account's rows only, and its actions act on that account's objects
only: an id of another account's object, or of the platform's, is a 404, as
any id the page does not show.

What the browser may send is which subscription, which plan (a catalog key,
never a price or an amount) and a quote; how a plan change is billed is the
app's setting (STRIPEKIT_PLAN_CHANGE_PRORATION), never the browser's.

A plan change is shown first (``preview-change``): Stripe's invoice preview
says what it will cost. The preview comes with a quote, the moment it was
computed for, signed with itsdangerous under a key derived from the Stripe
secret key: confirming with it bills exactly what was shown. A quote is bound
to its user, subscription and plan and lasts 30 minutes; a buyer cannot pick
their own proration moment (say, the end of the period, to upgrade for free).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stripekit._dates import format_day
from stripekit._errors import BillingError
from stripekit.catalog._currencies import format_amount

from ._models import CreditEntry, Purchase, Subscription
from ._operations import PlanChangePreview, Proration
from ._queries import _balance, _customer_for, _history
from ._store import check_account

if TYPE_CHECKING:
    from stripekit.catalog._catalog import Catalog

    from ._queries import Billing
    from ._store import BillingWriter

__all__ = [
    "ACCOUNT_ACTIONS",
    "NOTICES",
    "Account",
    "AccountAction",
    "AccountCredit",
    "AccountPurchase",
    "AccountSubscription",
    "ActionResult",
    "ChangeQuote",
    "PlanChoice",
    "aaccount",
    "account",
    "apreview_for_page",
    "arun_action",
    "preview_for_page",
    "run_action",
]

ACCOUNT_ACTIONS = ("cancel", "resume", "change-plan", "preview-change", "retry")
"""The POST routes under ``/account/``: one per action."""

NOTICES = {
    "cancel": "Canceled: your plan stays until the end of the period you paid for.",
    "cancel-now": "Canceled: your subscription has ended.",
    "resume": "Resumed: your subscription renews as before.",
    "change-plan": "Your plan was changed.",
    "retry-paid": "Payment received: thank you.",
    "retry-open": "The payment was declined again: update your card, then retry.",
}
"""What the page says after an action (``?done=<key>``): fixed text, never the URL's."""

_STATUS_LABELS = {
    "trialing": "Free trial",
    "active": "Active",
    "past_due": "Payment failed",
    "unpaid": "Unpaid",
    "canceled": "Canceled",
    "incomplete": "Awaiting payment",
    "incomplete_expired": "Expired",
    "paused": "Paused",
}
_LIVE = ("active", "trialing", "past_due")
_RECENT_CREDITS = 10
_QUOTE_SALT = "stripekit.plan-change-quote.v1"
_QUOTE_MAX_AGE = 30 * 60
_MAX_ID = 255


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """A plan a subscription may move to: ``target`` is what ``change_plan`` takes."""

    target: str
    name: str
    amount: str


@dataclass(frozen=True, slots=True)
class AccountSubscription:
    """A subscription as the account page shows it; the dates are written out."""

    id: str
    plan: str
    amount: str | None
    """"$12.00 / month", when the price is known."""
    status: str
    status_label: str
    renews_on: str | None
    ends_on: str | None
    """When access ends: a scheduled cancel, or the day it ended."""
    trial_ends: str | None
    cancel_scheduled: bool
    can_cancel: bool
    can_resume: bool
    open_invoice: str | None
    """The unpaid invoice of a failed renewal: ``retry`` pays it."""
    choices: tuple[PlanChoice, ...]
    """The plans it may move to (none once it is ending or ended)."""


@dataclass(frozen=True, slots=True)
class AccountPurchase:
    """A one-time purchase as the account page shows it."""

    id: str
    description: str
    total: str
    refunded: str | None
    """How much was given back, if any."""
    fully_refunded: bool
    status: str
    bought_on: str | None
    dispute: str | None


@dataclass(frozen=True, slots=True)
class AccountCredit:
    """One line of the credits ledger."""

    amount: int
    reason: str
    on: str


@dataclass(frozen=True, slots=True)
class Account:
    """Everything the account page shows a user, read from the mirror at once."""

    user: str
    customer: str | None
    """The Stripe customer the portal opens for (None until a checkout made one)."""
    subscriptions: tuple[AccountSubscription, ...]
    purchases: tuple[AccountPurchase, ...]
    credits: int
    credit_entries: tuple[AccountCredit, ...]
    shows_credits: bool
    """Whether credits mean anything here: the catalog sells some, or the user has some."""

    def as_json(self) -> dict[str, Any]:
        """The account as ``GET /account`` answers a JSON client."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ChangeQuote:
    """A previewed plan change, as the page shows it, with the quote that confirms it."""

    subscription: str
    target: str
    name: str
    proration: str
    """The prorations' sum, written out (negative: a credit)."""
    amount_due: str
    """What the change's invoice charges."""
    charged_now: bool
    """Whether ``amount_due`` is charged at once (``always_invoice``) or at the renewal."""
    quote: str
    preview: PlanChangePreview

    def as_json(self) -> dict[str, Any]:
        """The preview as ``POST /account/preview-change`` answers."""
        found = dataclasses.asdict(self)
        found["preview"] = dataclasses.asdict(self.preview)
        return found


@dataclass(frozen=True, slots=True)
class AccountAction:
    """A POST to ``/account/<name>``, parsed: only ids and a catalog key come from the browser."""

    name: str
    subscription: str | None = None
    invoice: str | None = None
    plan: str | None = None
    at_period_end: bool = True
    quote: str | None = None

    @classmethod
    def parse(cls, name: str, data: Mapping[str, Any]) -> AccountAction:
        """From a JSON body or a form post to the action's route.

        Raises:
            BillingError: a field is missing or not what the action takes (400).
        """
        if name not in ACCOUNT_ACTIONS:
            raise BillingError(f"no account action {name!r}: one of {', '.join(ACCOUNT_ACTIONS)}")
        if name == "retry":
            return cls(name, invoice=_field(data, "invoice", "an in_ id"))
        subscription = _field(data, "subscription", "a sub_ id")
        if name in ("change-plan", "preview-change"):
            plan = _field(data, "plan", "a product key, or product:price")
            if plan.startswith("price_"):
                raise BillingError("'plan' is a product key from the catalog, not a price id")
            quote = data.get("quote") or None
            if quote is not None and not isinstance(quote, str):
                raise BillingError("'quote' is the one a preview gave (a string)")
            return cls(name, subscription=subscription, plan=plan, quote=quote)
        return cls(
            name, subscription=subscription, at_period_end=_flag(data.get("at_period_end", True))
        )


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did: the JSON answer, and the notice the page shows (``NOTICES``)."""

    body: dict[str, Any]
    notice: str


# -- the page ------------------------------------------------------------------------------


def account(
    billing: Billing, catalog: Catalog | None, user: str, *, account: str | None = None
) -> Account:
    """The account page's content for ``user`` (the app's reference for the signed-in user),
    in ``account``: the platform's own (None) or one connected account's (``acct_...``)."""
    found = billing.store.run(_read(billing, user, account))
    return _account(billing, catalog, user, found)


async def aaccount(
    billing: Billing, catalog: Catalog | None, user: str, *, account: str | None = None
) -> Account:
    """Async twin of ``account``."""
    found = await billing.store.arun(_read(billing, user, account))
    return _account(billing, catalog, user, found)


_Read = tuple[list[Subscription], list[Purchase], int, list[CreditEntry], str | None]


def _read(billing: Billing, user: str, account: str | None) -> Callable[[BillingWriter], _Read]:
    # One account's billing: never ALL_ACCOUNTS (a page, its credits and its portal's
    # customer are one account's).
    check_account(account)
    parts = (
        billing._subscriptions(user, account),
        billing._purchases(user, account),
        _balance(user, account),
        _history(user, _RECENT_CREDITS, account),
        _customer_for(user, account),
    )
    return lambda tx: (parts[0](tx), parts[1](tx), parts[2](tx), parts[3](tx), parts[4](tx))


def _account(billing: Billing, catalog: Catalog | None, user: str, found: _Read) -> Account:
    subs, purchases, balance, entries, customer = found
    sells_credits = catalog is not None and any(p.credits for p in catalog)
    return Account(
        user=user,
        customer=customer,
        subscriptions=tuple(_subscription(sub, catalog) for sub in subs),
        purchases=tuple(_purchase(p) for p in purchases),
        credits=balance,
        credit_entries=tuple(
            AccountCredit(e.amount, e.reason, format_day(e.created_at)) for e in entries
        ),
        shows_credits=sells_credits or balance != 0 or bool(entries),
    )


def _subscription(sub: Subscription, catalog: Catalog | None) -> AccountSubscription:
    live = sub.status in _LIVE
    trialing = sub.status == "trialing" and sub.trial_end is not None
    scheduled = live and (sub.cancel_at_period_end or sub.cancel_at is not None)
    if sub.cancel_at_period_end and sub.current_period_end is not None:
        ends: Any = sub.current_period_end
    else:
        ends = sub.cancel_at if live else sub.ended_at or sub.canceled_at
    # A trial's end is its first charge: the page says "free until", not "renews on".
    renews = sub.current_period_end if live and not scheduled and not trialing else None
    retry = sub.latest_invoice_status == "open" and sub.status in ("past_due", "unpaid")
    changeable = sub.status in ("active", "trialing") and not scheduled and len(sub.items) == 1
    return AccountSubscription(
        id=sub.id,
        plan=" + ".join(_item_name(item.product, item.price, catalog) for item in sub.items),
        amount=_amount(sub),
        status=sub.status,
        status_label=_STATUS_LABELS.get(sub.status, sub.status.replace("_", " ").capitalize()),
        renews_on=format_day(renews) if renews is not None else None,
        ends_on=format_day(ends) if ends is not None else None,
        trial_ends=format_day(sub.trial_end) if trialing and sub.trial_end else None,
        cancel_scheduled=scheduled,
        can_cancel=live and not scheduled,
        can_resume=scheduled,
        open_invoice=sub.latest_invoice if retry else None,
        choices=_choices(sub, catalog) if changeable else (),
    )


def _item_name(product: str | None, price: str, catalog: Catalog | None) -> str:
    if product is not None and catalog is not None and product in catalog:
        return catalog.get(product).name
    return product or price


def _amount(sub: Subscription) -> str | None:
    items = sub.items
    if not items or any(i.unit_amount is None or not i.currency for i in items):
        return None
    first = items[0]
    if any((i.currency, i.interval, i.interval_count) != (first.currency, first.interval,
           first.interval_count) for i in items):  # fmt: skip
        return None
    total = sum((i.unit_amount or 0) * i.quantity for i in items)
    return _per(format_amount(total, str(first.currency)), first.interval, first.interval_count)


def _per(amount: str, interval: str | None, count: int) -> str:
    if interval is None:
        return amount
    return f"{amount} / {interval}" if count == 1 else f"{amount} / {count} {interval}s"


def _choices(sub: Subscription, catalog: Catalog | None) -> tuple[PlanChoice, ...]:
    if catalog is None:
        return ()
    (item,) = sub.items
    found = []
    for product, price in catalog.prices():
        if product.mode != "subscription":
            continue
        if item.lookup_key is not None:
            current = item.lookup_key == price.lookup_key
        else:  # a price seen only by id: the same product and terms is the same plan
            current = (
                item.product == product.key
                and item.unit_amount == price.amount
                and (item.interval, item.interval_count) == (price.interval, price.interval_count)
                and (item.currency or "").lower() == price.currency
            )
        if current:
            continue
        several = len(product.prices) > 1
        found.append(
            PlanChoice(
                target=f"{product.key}:{price.key}" if several else product.key,
                name=f"{product.name} ({price.key})" if several else product.name,
                amount=_per(price.display_amount, price.interval, price.interval_count),
            )
        )
    return tuple(found)


def _purchase(p: Purchase) -> AccountPurchase:
    currency = p.currency or "usd"
    names = [line.description for line in p.lines if line.description]
    quantity = sum(line.quantity for line in p.lines)
    description = ", ".join(names) or "Purchase"
    if len(p.lines) == 1 and quantity > 1:
        description = f"{description} x {quantity}"
    return AccountPurchase(
        id=p.id,
        description=description,
        total=format_amount(p.amount_total, currency),
        refunded=format_amount(p.refunded, currency) if p.refunded else None,
        fully_refunded=p.fully_refunded,
        status=p.status,
        bought_on=format_day(p.created) if p.created is not None else None,
        dispute=p.dispute,
    )


# -- the actions -----------------------------------------------------------------------------


def run_action(
    billing: Billing,
    action: AccountAction,
    user: str,
    *,
    proration: Proration,
    secret: str,
    catalog: Catalog | None = None,
    account: str | None = None,
) -> ActionResult:
    """Do what the signed-in ``user`` asked, on their own objects only.

    ``proration`` is the app's (STRIPEKIT_PLAN_CHANGE_PRORATION); ``secret`` signs and
    checks plan-change quotes (the Stripe secret key); ``catalog`` names the plans;
    ``account`` is the page's account (None: the platform's own; ``acct_...``: that
    connected account's), the only one whose objects it acts on.

    Raises:
        UnknownBillingObjectError: the id is not one of the user's (404).
        BillingError: the action does not apply (nothing to resume, the same plan...) (400).
        StripeAPIError: Stripe refused (502).
    """
    call = _call(action, user, proration, secret, catalog, account)
    return call.done(getattr(billing, call.method)(*call.args, **call.kwargs))


async def arun_action(
    billing: Billing,
    action: AccountAction,
    user: str,
    *,
    proration: Proration,
    secret: str,
    catalog: Catalog | None = None,
    account: str | None = None,
) -> ActionResult:
    """Async twin of ``run_action``."""
    call = _call(action, user, proration, secret, catalog, account)
    found: Awaitable[Any] = getattr(billing, "a" + call.method)(*call.args, **call.kwargs)
    return call.done(await found)


def preview_for_page(
    billing: Billing,
    catalog: Catalog | None,
    user: str,
    subscription: str,
    plan: str,
    *,
    proration: Proration,
    secret: str,
    account: str | None = None,
) -> ChangeQuote:
    """The preview the account page shows before a plan change is confirmed (a subscription
    of ``user`` in ``account``, the page's)."""
    action = AccountAction.parse("preview-change", {"subscription": subscription, "plan": plan})
    check_account(account)
    preview = billing.preview_change(
        action.subscription or "", action.plan or "", proration=proration, user=user,
        account=account,
    )  # fmt: skip
    return _quote(action, preview, catalog, user, proration, secret)


async def apreview_for_page(
    billing: Billing,
    catalog: Catalog | None,
    user: str,
    subscription: str,
    plan: str,
    *,
    proration: Proration,
    secret: str,
    account: str | None = None,
) -> ChangeQuote:
    """Async twin of ``preview_for_page``."""
    action = AccountAction.parse("preview-change", {"subscription": subscription, "plan": plan})
    check_account(account)
    preview = await billing.apreview_change(
        action.subscription or "", action.plan or "", proration=proration, user=user,
        account=account,
    )  # fmt: skip
    return _quote(action, preview, catalog, user, proration, secret)


@dataclass(frozen=True, slots=True)
class _OperationCall:
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    done: Callable[[Any], ActionResult]


def _call(
    action: AccountAction, user: str, proration: Proration, secret: str,
    catalog: Catalog | None, account: str | None,
) -> _OperationCall:  # fmt: skip
    """Which operation an action is, with its arguments, and how its answer reads."""
    # The page is one account's billing: another account's object (or the platform's) is
    # not on it, and an id of one posted to it is refused (404) like any id it does not show.
    check_account(account)
    kwargs: dict[str, Any] = {"user": user, "account": account}
    sub = action.subscription or ""
    if action.name == "retry":
        invoice = action.invoice or ""

        def retried(status: str) -> ActionResult:
            notice = "retry-paid" if status == "paid" else "retry-open"
            return ActionResult({"invoice": invoice, "status": status}, notice)

        return _OperationCall("retry_payment", (invoice,), kwargs, retried)
    if action.name == "cancel":
        notice = "cancel" if action.at_period_end else "cancel-now"
        kwargs["at_period_end"] = action.at_period_end
        return _OperationCall("cancel", (sub,), kwargs, _subscription_result(notice))
    if action.name == "resume":
        return _OperationCall("resume", (sub,), kwargs, _subscription_result("resume"))
    plan = action.plan or ""
    if action.name == "preview-change":
        return _OperationCall(
            "preview_change",
            (sub, plan),
            {**kwargs, "proration": proration},
            lambda preview: ActionResult(
                _quote(action, preview, catalog, user, proration, secret).as_json(), ""
            ),
        )
    kwargs["proration"] = proration
    if action.quote is not None:
        kwargs["proration_date"] = _quoted_moment(action, user, secret)
    return _OperationCall("change_plan", (sub, plan), kwargs, _subscription_result("change-plan"))


def _subscription_result(notice: str) -> Callable[[Subscription], ActionResult]:
    def done(sub: Subscription) -> ActionResult:
        body = dataclasses.asdict(sub)
        for key, value in body.items():
            if hasattr(value, "isoformat"):
                body[key] = value.isoformat()
        return ActionResult({"subscription": body}, notice)

    return done


def _quote(
    action: AccountAction,
    preview: PlanChangePreview,
    catalog: Catalog | None,
    user: str,
    proration: Proration,
    secret: str,
) -> ChangeQuote:
    plan = action.plan or ""
    key = plan.partition(":")[0]
    name = catalog.get(key).name if catalog is not None and key in catalog else plan
    currency = preview.currency or "usd"
    token = _serializer(secret).dumps([user, action.subscription, plan, preview.proration_date])
    return ChangeQuote(
        subscription=action.subscription or "",
        target=plan,
        name=name,
        proration=format_amount(preview.proration, currency),
        amount_due=format_amount(preview.amount_due, currency),
        charged_now=proration == "always_invoice",
        quote=token,
        preview=preview,
    )


def _quoted_moment(action: AccountAction, user: str, secret: str) -> int | None:
    from itsdangerous import BadData, SignatureExpired

    try:
        found = _serializer(secret).loads(action.quote or "", max_age=_QUOTE_MAX_AGE)
    except SignatureExpired:
        raise BillingError("that preview is more than 30 minutes old: preview again") from None
    except BadData:
        raise BillingError("that quote is not one this shop gave: preview again") from None
    if not (isinstance(found, list) and len(found) == 4):
        raise BillingError("that quote is not one this shop gave: preview again")
    owner, subscription, plan, moment = found
    if (owner, subscription, plan) != (user, action.subscription, action.plan):
        raise BillingError("that quote was for another change: preview this one")
    return moment if isinstance(moment, int) else None


def _serializer(secret: str) -> URLSafeTimedSerializer:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt=_QUOTE_SALT)


def _field(data: Mapping[str, Any], name: str, what: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BillingError(f"say which: give {name!r} ({what})")
    value = value.strip()
    if len(value) > _MAX_ID or not value.isprintable():
        raise BillingError(f"{name!r} is not {what}")
    return value


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise BillingError(f"'at_period_end' is true or false, not {value!r}")


if TYPE_CHECKING:
    from itsdangerous import URLSafeTimedSerializer
