"""What the pages that take the card in the app's own page decide, for every web framework.

Two flows mount Stripe.js in the app's page: embedded Checkout (a Checkout
Session with ``ui_mode="embedded_page"``) and the Payment Element over a
PaymentIntent. Their pages show what is bought (from the catalog), load
Stripe.js (Stripe's, or the emulator's stand-in) with the publishable key, and
ask the app for the client secret, which the app makes server-side from a
product key and a quantity: the browser never sends an amount. Their return
pages read the session or the intent from Stripe, never from the query string,
and show the details to the buyer only (``_receipts``).

Connect: with ``stripe_account="acct_..."`` (the storefront of a connected
account) the session or the intent is made, and read back, in that account,
and the page loads Stripe.js for it (``Stripe(key, {stripeAccount})``): a
client secret of a connected account's object is only good with that option.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from stripekit._connect import account_options
from stripekit._errors import (
    CheckoutError,
    ConfigurationError,
    InvalidQuantityError,
    StripeAPIError,
    UnknownSessionError,
)
from stripekit._metadata_keys import METADATA_QUANTITY, METADATA_USER

from ._receipts import may_see_details
from ._views import Buyer, CheckoutRequest, ShopKit

if TYPE_CHECKING:
    import stripe
    from stripe.params import PaymentIntentRetrieveParams

    from ._intents import SubscriptionPayment

__all__ = [
    "PaymentPage",
    "PaymentSummary",
    "apayment_summary",
    "astart_payment",
    "payment_page",
    "payment_summary",
    "start_payment",
]

Flow = Literal["embedded", "element"]

_INTENT_ID = re.compile(r"pi_[A-Za-z0-9]{1,200}")
_WITH_CUSTOMER: PaymentIntentRetrieveParams = {"expand": ["customer"]}


@dataclass(frozen=True)
class PaymentPage:
    """A page that takes the card in the app's page: what is bought and how to load Stripe.js."""

    product: str
    price: str
    quantity: int
    name: str
    description: str | None
    mode: str
    unit_amount: str
    total: str
    interval: str | None
    publishable_key: str
    stripe_js: str
    """The Stripe.js to load: Stripe's, or the emulator's stand-in (``STRIPEKIT_STRIPE_JS_URL``)."""
    return_url: str
    """Where ``confirmPayment`` returns (the Payment Element; embedded Checkout's is the
    session's own)."""
    stripe_account: str | None = None
    """The connected account the payment is made in (Connect): Stripe.js is loaded for it
    (``Stripe(key, {stripeAccount})``); None: the platform's own."""


def payment_page(
    kit: ShopKit, data: Mapping[str, Any], *, flow: Flow, stripe_account: str | None = None
) -> PaymentPage:
    """The page for ``?product=...&price=...&quantity=...`` (the query string), in
    ``stripe_account`` (a connected account, Connect) or the platform's own.

    Raises:
        CheckoutError: no product named, or a subscription with a free trial for the
            Payment Element (400).
        UnknownProductError: no such product (404).
        InvalidQuantityError: a quantity out of bounds (422).
        ConfigurationError: no publishable key (500).
    """
    from stripekit.catalog._currencies import format_amount

    order = CheckoutRequest.parse(data, kit.catalog)
    product, price = kit.catalog.price(order.product, order.price)
    if not product.min_quantity <= order.quantity <= product.max_quantity:
        raise InvalidQuantityError(
            product.key, order.quantity, product.min_quantity, product.max_quantity
        )
    if flow == "element" and product.mode == "subscription" and price.trial_days:
        raise CheckoutError(
            f"{product.name} starts with a free trial: there is nothing to pay in the page; "
            "subscribe through Checkout"
        )
    settings = kit.settings
    if not settings.publishable_key:
        raise ConfigurationError(
            "STRIPE_PUBLISHABLE_KEY is not set: the payment page's Stripe.js needs it (pk_test_...)"
        )
    return PaymentPage(
        product=product.key,
        price=price.key,
        quantity=order.quantity,
        name=product.name,
        description=product.description,
        mode=product.mode,
        unit_amount=price.display_amount,
        total=format_amount(price.amount * order.quantity, price.currency),
        interval=price.interval,
        publishable_key=settings.publishable_key,
        stripe_js=settings.stripe_js_url_resolved,
        return_url=settings.payment_return_url_resolved,
        stripe_account=stripe_account,
    )


def _is_subscription(kit: ShopKit, request: CheckoutRequest) -> bool:
    product, _ = kit.catalog.price(request.product, request.price)
    return product.mode == "subscription"


def start_payment(
    kit: ShopKit,
    request: CheckoutRequest,
    buyer: Buyer | None,
    *,
    stripe_account: str | None = None,
) -> stripe.PaymentIntent | SubscriptionPayment:
    """Create what the buyer asked for, priced by the catalog: a PaymentIntent for a
    one-time product, an incomplete subscription (its first invoice's intent) for a
    subscription. Either has ``id`` (the PaymentIntent's) and ``client_secret``.
    ``stripe_account``: made in that connected account (Connect), with its customer."""
    if _is_subscription(kit, request):
        return kit.payments.create_subscription(
            request.product, buyer, quantity=request.quantity, price=request.price,
            stripe_account=stripe_account,
        )  # fmt: skip
    return kit.payments.create_intent(
        request.product, request.quantity, buyer, price=request.price,
        stripe_account=stripe_account,
    )  # fmt: skip


async def astart_payment(
    kit: ShopKit,
    request: CheckoutRequest,
    buyer: Buyer | None,
    *,
    stripe_account: str | None = None,
) -> stripe.PaymentIntent | SubscriptionPayment:
    """Async twin of ``start_payment``."""
    if _is_subscription(kit, request):
        return await kit.payments.acreate_subscription(
            request.product, buyer, quantity=request.quantity, price=request.price,
            stripe_account=stripe_account,
        )  # fmt: skip
    return await kit.payments.acreate_intent(
        request.product, request.quantity, buyer, price=request.price,
        stripe_account=stripe_account,
    )  # fmt: skip


@dataclass(frozen=True)
class PaymentSummary:
    """A PaymentIntent as its return page may show it: read from Stripe.

    A viewer who is not its buyer sees ``private`` True and no details.
    """

    id: str
    status: str
    paid: bool
    """Succeeded (or captured later: ``requires_capture``)."""
    processing: bool
    error: str | None
    """Why the last attempt failed (a decline, a failed 3-D Secure), as Stripe says it."""
    description: str
    quantity: int | None
    total: str
    private: bool = False

    def withheld(self) -> PaymentSummary:
        """This summary as a stranger may see it."""
        return dataclasses.replace(
            self, description="", quantity=None, total="", error=None, private=True
        )


def _intent_id(intent_id: str | None) -> str:
    if not intent_id or not _INTENT_ID.fullmatch(intent_id):
        raise UnknownSessionError("this page needs a payment id (?payment_intent=pi_...)")
    return intent_id


def payment_summary(
    kit: ShopKit,
    intent_id: str | None,
    *,
    viewer: Buyer | None = None,
    cookie: str | None = None,
    stripe_account: str | None = None,
) -> PaymentSummary:
    """Retrieve the PaymentIntent from Stripe (never trusting the query string) and summarize it.

    ``stripe_account``: read in that connected account (Connect), where the page made it.

    Raises:
        UnknownSessionError: no id, not an intent id, or Stripe has no such intent (404).
        StripeAPIError: Stripe answered with another error (502).
    """
    from stripekit._stripe_api import call_stripe

    wanted = _intent_id(intent_id)
    client = kit.client
    try:
        intent = call_stripe(
            lambda: client.v1.payment_intents.retrieve(
                wanted, _WITH_CUSTOMER, account_options(stripe_account)
            )
        )
    except StripeAPIError as exc:
        raise _not_found(exc, wanted) from None
    return _for_viewer(kit, intent, viewer, cookie)


async def apayment_summary(
    kit: ShopKit,
    intent_id: str | None,
    *,
    viewer: Buyer | None = None,
    cookie: str | None = None,
    stripe_account: str | None = None,
) -> PaymentSummary:
    """Async twin of ``payment_summary``."""
    from stripekit._stripe_api import acall_stripe

    wanted = _intent_id(intent_id)
    client = kit.client
    try:
        intent = await acall_stripe(
            lambda: client.v1.payment_intents.retrieve_async(
                wanted, _WITH_CUSTOMER, account_options(stripe_account)
            )
        )
    except StripeAPIError as exc:
        raise _not_found(exc, wanted) from None
    return _for_viewer(kit, intent, viewer, cookie)


def _customers_user(intent: stripe.PaymentIntent) -> str | None:
    """The user the kit made the intent's customer for: a subscription's first invoice's
    intent carries no metadata of the kit's, its customer does."""
    customer = intent.customer
    metadata = getattr(customer, "metadata", None)
    if isinstance(customer, str) or metadata is None or getattr(customer, "deleted", False):
        return None
    user = metadata.to_dict().get(METADATA_USER)
    return str(user) if user else None


def _not_found(exc: StripeAPIError, intent_id: str) -> Exception:
    if exc.status == 404:
        return UnknownSessionError(f"no payment {intent_id}")
    return exc


def _for_viewer(
    kit: ShopKit, intent: stripe.PaymentIntent, viewer: Buyer | None, cookie: str | None
) -> PaymentSummary:
    from stripekit.catalog._currencies import format_amount

    metadata = intent.metadata.to_dict() if intent.metadata else {}
    error = intent.last_payment_error
    raw_quantity = str(metadata.get(METADATA_QUANTITY, ""))
    summary = PaymentSummary(
        id=intent.id,
        status=intent.status,
        paid=intent.status in ("succeeded", "requires_capture"),
        processing=intent.status == "processing",
        error=(error.message if error is not None else None) or None,
        description=intent.description or "",
        quantity=int(raw_quantity) if raw_quantity.isdigit() else None,
        total=format_amount(intent.amount or 0, intent.currency or "usd"),
    )
    user = metadata.get(METADATA_USER) or _customers_user(intent)
    owner = may_see_details(
        str(user) if user else None,
        intent.id,
        viewer=viewer.reference if viewer is not None else None,
        cookie=cookie,
        secret=kit.settings.require_secret_key(),
    )
    return summary if owner else summary.withheld()
