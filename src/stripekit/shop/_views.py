"""What the ready-made shop routes decide, for every web framework.

An integration (``stripekit_fastapi``, ``stripekit_django``) turns its
request into these calls and their results into its response: which checkout
a form or JSON body asks for, what the success page may say about a session
(read from Stripe, never from the query string), what the pricing page shows,
and which HTTP status and message an error becomes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from stripekit._connect import account_options
from stripekit._errors import (
    BillingError,
    CheckoutError,
    ConfigurationError,
    InvalidQuantityError,
    StripeAPIError,
    StripekitError,
    UnknownBillingObjectError,
    UnknownPriceError,
    UnknownProductError,
    UnknownSessionError,
)

from ._buyer import Buyer
from ._receipts import may_see_details, remember_checkout

if TYPE_CHECKING:
    import stripe

    from stripekit._settings import Settings
    from stripekit.catalog._catalog import Catalog

    from ._checkout import CheckoutBuilder, UiMode
    from ._intents import PaymentIntents

__all__ = [
    "Buyer",
    "CheckoutRequest",
    "PricingProduct",
    "SessionSummary",
    "ShopKit",
    "astart_checkout",
    "asummarize_session",
    "error_status",
    "is_anonymous",
    "pricing",
    "remember_checkout_cookie",
    "start_checkout",
    "summarize_session",
]

_SESSION_ID = re.compile(r"cs_(test|live)_[A-Za-z0-9]{1,200}")
# Stripe masks keys in its messages; mask anything key-shaped again, to be sure.
_KEYISH = re.compile(r"\b(sk|rk|whsec)_[A-Za-z0-9_*]+")


class ShopKit(Protocol):
    """What the shop's decisions need of the kit (``StripeKit`` is one).

    Declared here so that the shop does not import the kit that is built from it.
    """

    @property
    def catalog(self) -> Catalog: ...
    @property
    def checkout(self) -> CheckoutBuilder: ...
    @property
    def payments(self) -> PaymentIntents: ...
    @property
    def client(self) -> stripe.StripeClient: ...
    @property
    def settings(self) -> Settings: ...
    def linked_customer(self, user: str, account: str | None = None) -> str | None: ...
    async def alinked_customer(self, user: str, account: str | None = None) -> str | None: ...


@dataclass(frozen=True)
class CheckoutRequest:
    """What a buyer may choose: a product, one of its prices, a quantity. Never an amount."""

    product: str
    price: str | None = None
    quantity: int = 1

    @classmethod
    def parse(cls, data: Mapping[str, Any], catalog: Catalog) -> CheckoutRequest:
        """From a JSON body or a form post.

        Raises:
            CheckoutError: no product named (400).
            UnknownProductError: no such product (404).
            InvalidQuantityError: the quantity is not a whole number in bounds (422).
        """
        key = data.get("product")
        if not isinstance(key, str) or not key.strip():
            raise CheckoutError("say which product to buy: give 'product' (a product key)")
        product = catalog.get(key.strip())
        price = data.get("price") or None
        if price is not None and not isinstance(price, str):
            raise CheckoutError("'price' must be a price key (a string)")
        raw = data.get("quantity", 1)
        if raw in (None, ""):
            raw = 1
        quantity = _whole_number(raw)
        if quantity is None:
            raise InvalidQuantityError(product.key, raw, product.min_quantity, product.max_quantity)
        return cls(product.key, price, quantity)


_MAX_QUANTITY_DIGITS = 9
"""Longer than any quantity Stripe takes (it caps line items at 999,999)."""


def _whole_number(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    digits = text.removeprefix("-")
    # Bounded before int(): Python refuses to convert over 4,300 digits (ValueError),
    # and a quantity that long is wrong whatever its value.
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) > _MAX_QUANTITY_DIGITS:
        return None
    return int(text)


def _checkout_arguments(
    request: CheckoutRequest, buyer: Buyer | None, linked: str | None
) -> dict[str, Any]:
    buyer = buyer or Buyer()
    customer = buyer.customer or linked
    return {
        "price": request.price,
        "quantity": request.quantity,
        "customer": customer,
        "customer_email": None if customer else buyer.email,
        "client_reference_id": buyer.reference,
        "metadata": dict(buyer.metadata) or None,
    }


def start_checkout(
    kit: ShopKit,
    request: CheckoutRequest,
    buyer: Buyer | None,
    *,
    ui_mode: UiMode | None = None,
    stripe_account: str | None = None,
) -> stripe.checkout.Session:
    """Create the Checkout Session a buyer asked for (anonymous when ``buyer`` is None).

    A signed-in buyer without a ``customer`` reuses the customer the billing state
    has linked to their reference (one customer per user, not one per checkout) in
    the account the session is made in: ``stripe_account`` (Connect, ``acct_...``),
    or the platform's own. ``ui_mode="embedded_page"`` makes one to mount in the
    app's page.
    """
    linked = None
    if buyer is not None and buyer.customer is None and buyer.reference:
        linked = kit.linked_customer(buyer.reference, stripe_account)
    arguments = _checkout_arguments(request, buyer, linked)
    return kit.checkout.create(
        request.product, ui_mode=ui_mode, **arguments, stripe_account=stripe_account
    )


async def astart_checkout(
    kit: ShopKit,
    request: CheckoutRequest,
    buyer: Buyer | None,
    *,
    ui_mode: UiMode | None = None,
    stripe_account: str | None = None,
) -> stripe.checkout.Session:
    """Async twin of ``start_checkout``."""
    linked = None
    if buyer is not None and buyer.customer is None and buyer.reference:
        linked = await kit.alinked_customer(buyer.reference, stripe_account)
    arguments = _checkout_arguments(request, buyer, linked)
    return await kit.checkout.acreate(
        request.product, ui_mode=ui_mode, **arguments, stripe_account=stripe_account
    )


@dataclass(frozen=True)
class SessionLine:
    """One bought line, as the success page shows it."""

    description: str
    quantity: int
    amount: str


@dataclass(frozen=True)
class SessionSummary:
    """A Checkout Session as the success page may show it: read from Stripe.

    For a viewer who is not its buyer, ``private`` is True and the personal
    details (email, lines, total) are empty: they see whether it is paid, no more.
    """

    id: str
    mode: str
    status: str
    payment_status: str
    paid: bool
    """Complete and paid (or nothing to pay yet: a trial)."""
    email: str | None
    total: str
    lines: tuple[SessionLine, ...]
    trial_ends: str | None = None
    """A trial: the day it ends ("December 7, 2026"), when the first charge comes."""
    first_charge: str | None = None
    """A trial: what is charged when it ends (nothing is charged today)."""
    private: bool = False
    """True when the details were withheld from this viewer."""

    def withheld(self) -> SessionSummary:
        """This summary as a stranger may see it."""
        return dataclasses.replace(
            self, email=None, total="", lines=(), first_charge=None, private=True
        )


def _session_id(session_id: str | None) -> str:
    if not session_id or not _SESSION_ID.fullmatch(session_id):
        raise UnknownSessionError("this page needs a checkout session id (?session_id=cs_...)")
    return session_id


def _not_found(exc: StripeAPIError, session_id: str) -> StripekitError:
    if exc.status == 404:
        return UnknownSessionError(f"no checkout session {session_id}")
    return exc


def summarize_session(
    kit: ShopKit,
    session_id: str | None,
    *,
    viewer: Buyer | None = None,
    cookie: str | None = None,
    stripe_account: str | None = None,
) -> SessionSummary:
    """Retrieve the session from Stripe (never trusting the query string) and summarize it.

    Personal details are kept for its buyer: ``viewer`` (the app's current
    user) when the session was made for them, else the browser whose checkout
    ``cookie`` (CHECKOUT_COOKIE) says it started the session. ``stripe_account``:
    the connected account (Connect) the session was made in.

    Raises:
        UnknownSessionError: no id, not a session id, or Stripe has no such session (404).
        StripeAPIError: Stripe answered with another error (502).
    """
    from stripekit._stripe_api import call_stripe

    wanted = _session_id(session_id)
    client = kit.client
    try:
        session = call_stripe(
            lambda: client.v1.checkout.sessions.retrieve(
                wanted, {"expand": _EXPAND}, account_options(stripe_account)
            )
        )
    except StripeAPIError as exc:
        raise _not_found(exc, wanted) from None
    return _for_viewer(kit, session, viewer, cookie)


async def asummarize_session(
    kit: ShopKit,
    session_id: str | None,
    *,
    viewer: Buyer | None = None,
    cookie: str | None = None,
    stripe_account: str | None = None,
) -> SessionSummary:
    """Async twin of ``summarize_session``."""
    from stripekit._stripe_api import acall_stripe

    wanted = _session_id(session_id)
    client = kit.client
    try:
        session = await acall_stripe(
            lambda: client.v1.checkout.sessions.retrieve_async(
                wanted, {"expand": _EXPAND}, account_options(stripe_account)
            )
        )
    except StripeAPIError as exc:
        raise _not_found(exc, wanted) from None
    return _for_viewer(kit, session, viewer, cookie)


def _for_viewer(
    kit: ShopKit, session: stripe.checkout.Session, viewer: Buyer | None, cookie: str | None
) -> SessionSummary:
    summary = _summary(session)
    owner = may_see_details(
        session.client_reference_id,
        session.id,
        viewer=viewer.reference if viewer is not None else None,
        cookie=cookie,
        secret=kit.settings.require_secret_key(),
    )
    return summary if owner else summary.withheld()


def is_anonymous(buyer: Buyer | None) -> bool:
    """Whether a checkout is anonymous: no app user's reference goes with it.

    Its success page then shows details to the browser that started it
    (the checkout cookie) instead of to a signed-in user.
    """
    return buyer is None or not buyer.reference


def remember_checkout_cookie(kit: ShopKit, cookie: str | None, session_id: str) -> str:
    """The checkout cookie's value once this browser started ``session_id`` (anonymously)."""
    return remember_checkout(cookie, session_id, kit.settings.require_secret_key())


# What was bought, and for a trial, when it ends and what it will cost then.
_EXPAND = ["line_items", "subscription"]


def _trial(session: stripe.checkout.Session, currency: str) -> tuple[str | None, str | None]:
    """When a trial's first charge comes and how much it is; (None, None) if no trial."""
    from stripekit._dates import format_day
    from stripekit.catalog._currencies import format_amount

    subscription = session.subscription
    if session.payment_status != "no_payment_required" or subscription is None:
        return None, None
    if isinstance(subscription, str) or not subscription.trial_end:
        return None, None
    amount = sum(
        (item.price.unit_amount or 0) * (item.quantity or 1) for item in subscription.items.data
    )
    return format_day(subscription.trial_end), format_amount(amount, currency)


def _summary(session: stripe.checkout.Session) -> SessionSummary:
    from stripekit.catalog._currencies import format_amount

    currency = session.currency or "usd"
    lines = tuple(
        SessionLine(
            item.description or "",
            item.quantity or 1,
            format_amount(item.amount_total or 0, item.currency or currency),
        )
        for item in (session.line_items.data if session.line_items else [])
    )
    details = session.customer_details
    trial_ends, first_charge = _trial(session, currency)
    return SessionSummary(
        id=session.id,
        mode=session.mode,
        status=str(session.status),
        payment_status=session.payment_status,
        paid=session.status == "complete"
        and session.payment_status in ("paid", "no_payment_required"),
        email=(details.email if details else None) or session.customer_email,
        total=format_amount(session.amount_total or 0, currency),
        lines=lines,
        trial_ends=trial_ends,
        first_charge=first_charge,
    )


@dataclass(frozen=True)
class PricingPrice:
    """One price on the pricing page."""

    key: str
    amount: str
    interval: str | None
    interval_count: int
    trial_days: int | None


@dataclass(frozen=True)
class PricingProduct:
    """One product on the pricing page, with a buy button per price."""

    key: str
    name: str
    description: str | None
    mode: str
    image: str | None
    features: tuple[str, ...]
    prices: tuple[PricingPrice, ...]
    max_quantity: int


def pricing(kit: ShopKit) -> list[PricingProduct]:
    """The catalog as the pricing page (and ``GET /products``) shows it."""
    return [
        PricingProduct(
            key=product.key,
            name=product.name,
            description=product.description,
            mode=product.mode,
            image=product.image,
            features=tuple(product.features),
            prices=tuple(
                PricingPrice(p.key, p.display_amount, p.interval, p.interval_count, p.trial_days)
                for p in product.prices
            ),
            max_quantity=product.max_quantity,
        )
        for product in kit.catalog
    ]


def error_status(error: StripekitError) -> tuple[int, str]:
    """The HTTP status an error becomes, and the message a buyer may see.

    Stripe's errors keep Stripe's message (keys masked); configuration errors get
    a generic one (the details belong in the log, with Stripe's request id).
    """
    if isinstance(
        error,
        UnknownProductError | UnknownPriceError | UnknownSessionError | UnknownBillingObjectError,
    ):
        return 404, str(error)
    if isinstance(error, BillingError):
        return 400, str(error)
    if isinstance(error, InvalidQuantityError):
        return 422, str(error)
    if isinstance(error, CheckoutError):
        return 400, str(error)
    if isinstance(error, StripeAPIError):
        return 502, _redact(str(error))
    if isinstance(error, ConfigurationError):
        return 500, "the shop is not configured correctly"
    return 500, "something went wrong"


def _redact(message: str) -> str:
    return _KEYISH.sub(lambda m: m[1] + "_***", message)
