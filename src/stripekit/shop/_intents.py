"""The Payment Element's payments: a product key in, an intent priced by the catalog out.

The browser names a product and a quantity, never an amount: the amount and
currency come from the catalog's price, the customer from the buyer the app
says is signed in (or the customer the billing state linked to them), and the
metadata says what was bought and for whom, so that ``payment_intent.succeeded``
alone tells the billing state the purchase.

A subscription product gets a subscription instead, created ``incomplete``
(``payment_behavior="default_incomplete"``): the page confirms its first
invoice's PaymentIntent, and once that is paid Stripe makes it ``active``
(``customer.subscription.updated``), as Stripe's "build a subscriptions
integration" guide does it.

Connect: ``stripe_account="acct_..."`` makes the payment in that connected
account (``Stripe-Account`` on every call): the customer is the user's in that
account (or a new one made there), a subscription's price is that account's
(by ``lookup_key``), and the page must load Stripe.js for that account
(``Stripe(key, {stripeAccount})``) to confirm it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from stripekit._connect import account_argument, account_options
from stripekit._errors import CheckoutError, InvalidQuantityError
from stripekit._metadata_keys import (
    METADATA_PRICE,
    METADATA_PRODUCT,
    METADATA_QUANTITY,
    METADATA_USER,
)
from stripekit._stripe_api import acall_stripe, call_stripe
from stripekit.catalog._catalog import metadata_problem

from ._checkout import customer_problem

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions
    from stripe.params import (
        CustomerCreateParams,
        PaymentIntentCreateParams,
        SubscriptionCreateParams,
    )

    from stripekit._settings import Settings
    from stripekit.catalog._catalog import Catalog, Price, Product
    from stripekit.catalog._prices import PriceResolver

    from ._buyer import Buyer

__all__ = ["PaymentIntents", "SubscriptionPayment"]

_MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True, slots=True)
class _IntentPlan:
    """A checked request: what is bought, how many, for whom."""

    product: Product
    price: Price
    quantity: int
    customer: str | None
    user: str | None
    email: str | None
    metadata: dict[str, str]


class _IntentsBase:
    """Everything but the network: checks a request and assembles the params."""

    IDEMPOTENCY_WINDOW = 60
    """Seconds in which the same request from the same buyer returns the same intent."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        client_factory: Callable[[], stripe.StripeClient],
        *,
        linked_customer: Callable[[str, str | None], str | None] | None = None,
        alinked_customer: Callable[[str, str | None], Awaitable[str | None]] | None = None,
        clock: Callable[[], float] = time.time,
        prices: PriceResolver | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.prices = prices
        self._client_factory = client_factory
        self._linked = linked_customer
        self._alinked = alinked_customer
        self._clock = clock

    def _plan(
        self,
        product: str,
        quantity: object,
        buyer: Buyer | None,
        price: str | None,
        customer: str | None,
        mode: str = "payment",
    ) -> _IntentPlan:
        found, chosen = self.catalog.price(product, price)
        if found.mode != mode:
            if mode == "payment":
                raise CheckoutError(
                    f"product {found.key!r} is a subscription: pay it with "
                    "kit.payments.create_subscription, not create_intent"
                )
            raise CheckoutError(
                f"product {found.key!r} is a one-time purchase: pay it with "
                "kit.payments.create_intent, not create_subscription"
            )
        if mode == "subscription" and chosen.trial_days:
            raise CheckoutError(
                f"product {found.key!r} starts with a free trial: the in-page form takes a "
                "first payment; subscribe through Checkout (hosted or embedded) for a trial"
            )
        if (
            not isinstance(quantity, int)
            or isinstance(quantity, bool)
            or not found.min_quantity <= quantity <= found.max_quantity
        ):
            raise InvalidQuantityError(found.key, quantity, found.min_quantity, found.max_quantity)
        if chosen.amount * quantity < 1:
            raise CheckoutError(f"product {found.key!r} costs nothing: there is nothing to pay")
        if customer is not None and (problem := customer_problem(customer)):
            raise CheckoutError(problem)
        user = buyer.reference if buyer is not None and buyer.reference else None
        extra = dict(buyer.metadata) if buyer is not None else {}
        reserved = sorted(k for k in extra if isinstance(k, str) and k.startswith("stripekit_"))
        if reserved:
            raise CheckoutError(f"metadata key {reserved[0]!r} is reserved for stripekit")
        metadata = {
            **extra,
            METADATA_PRODUCT: found.key,
            METADATA_PRICE: chosen.key,
            METADATA_QUANTITY: str(quantity),
        }
        if user is not None:
            metadata[METADATA_USER] = user
        problem = metadata_problem(metadata)
        if problem is not None:
            raise CheckoutError(f"metadata {problem}")
        email = buyer.email if buyer is not None else None
        return _IntentPlan(found, chosen, quantity, customer, user, email, metadata)

    @staticmethod
    def _customer_given(buyer: Buyer | None) -> str | None:
        return buyer.customer if buyer is not None else None

    def _params(self, plan: _IntentPlan) -> PaymentIntentCreateParams:
        params: PaymentIntentCreateParams = {
            # The catalog's amount, times a quantity checked against the catalog's bounds.
            "amount": plan.price.amount * plan.quantity,
            "currency": plan.price.currency,
            "automatic_payment_methods": {"enabled": True},
            "description": f"{plan.product.name} x {plan.quantity}",
            "metadata": dict(plan.metadata),
        }
        if plan.customer is not None:
            params["customer"] = plan.customer
        return params

    @staticmethod
    def _subscription_params(plan: _IntentPlan, price_id: str) -> SubscriptionCreateParams:
        return {
            "customer": str(plan.customer),
            # The catalog's price, by its Stripe id; never an amount from the request.
            "items": [{"price": price_id, "quantity": plan.quantity}],
            "metadata": dict(plan.metadata),
            # Incomplete until the page pays the first invoice; the card then becomes
            # the subscription's default for the renewals.
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "expand": ["latest_invoice.confirmation_secret"],
        }

    @staticmethod
    def _customer_params(plan: _IntentPlan) -> CustomerCreateParams:
        params: CustomerCreateParams = {}
        if plan.user is not None:
            params["metadata"] = {METADATA_USER: plan.user}
        if plan.email:
            params["email"] = plan.email
        return params

    def _idempotency_key(
        self, params: Mapping[str, object], given: str | None, account: str | None = None
    ) -> str | None:
        """The caller's key; else one derived from the request, for a known buyer only.

        Two anonymous buyers of the same product send the same request: a key derived
        from it would give the second one the first one's intent (and its client
        secret). Anonymous intents get stripe-python's random key instead.
        """
        if given is not None:
            if not isinstance(given, str) or not 0 < len(given) <= _MAX_IDEMPOTENCY_KEY:
                raise CheckoutError(
                    f"idempotency_key must be a string of 1 to {_MAX_IDEMPOTENCY_KEY} characters"
                )
            return given
        if "customer" not in params:
            return None
        import json

        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
        window = int(self._clock() // self.IDEMPOTENCY_WINDOW)
        # The account too: the same request in two accounts is two payments.
        where = f"{account}:" if account is not None else ""
        digest = hashlib.sha256(f"{where}{window}:{canonical}".encode()).hexdigest()
        return f"stripekit-intent-{digest}"

    def _resolver(self) -> PriceResolver:
        if self.prices is None:
            raise CheckoutError(
                "this PaymentIntents has no price resolver: use kit.payments, which has one"
            )
        return self.prices

    def _customer_options(self, plan: _IntentPlan, account: str | None) -> RequestOptions:
        options = account_options(account)
        # An anonymous buyer gets a new customer each time (stripe-python's own key).
        if plan.user is None:
            return options
        return {**options, "idempotency_key": self._customer_key(plan.user, account)}

    @staticmethod
    def _customer_key(user: str, account: str | None = None) -> str:
        # One customer per user and account, however many pages ask at once (Stripe keeps
        # a key 24 h; by then the billing state has linked the customer, from its metadata).
        owner = user if account is None else f"{account}:{user}"
        return "stripekit-customer-" + hashlib.sha256(owner.encode()).hexdigest()

    @staticmethod
    def _account(stripe_account: str | None) -> str | None:
        return account_argument(stripe_account)


class PaymentIntents(_IntentsBase):
    """Payments priced by the catalog, for the Payment Element (``kit.payments``): a
    PaymentIntent for a one-time product, an incomplete subscription for a subscription.

    Example:
        >>> intent = kit.payments.create_intent("book", 2, buyer)  # doctest: +SKIP
        >>> intent.amount, intent.client_secret  # doctest: +SKIP
        (5000, 'pi_..._secret_...')
    """

    def build(
        self,
        product: str,
        quantity: int = 1,
        buyer: Buyer | None = None,
        *,
        price: str | None = None,
    ) -> PaymentIntentCreateParams:
        """The params of ``payment_intents.create`` for this request (no Stripe call; the
        buyer's own ``customer`` only, not the linked one)."""
        plan = self._plan(product, quantity, buyer, price, self._customer_given(buyer))
        return self._params(plan)

    def create_intent(
        self,
        product: str,
        quantity: int = 1,
        buyer: Buyer | None = None,
        *,
        price: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> stripe.PaymentIntent:
        """Create the PaymentIntent; hand its ``client_secret`` to ``stripe.elements()``.

        Args:
            product: a one-time product's key in the catalog.
            quantity: a whole number within the product's min/max quantity.
            buyer: the signed-in buyer (None: anonymous). Their ``customer``, else the
                customer the billing state links to their ``reference``, else a new
                customer named after them, pays; ``reference`` goes in the metadata.
            price: the price's key; the product's first price if ``None``.
            idempotency_key: your key; by default a request with a customer gets one
                derived from it, so a double submit returns the same intent.
            stripe_account: a connected account (Connect, ``acct_...``): the intent, and
                the customer, are made there (``Stripe-Account``).

        Raises:
            UnknownProductError: no product with that key.
            UnknownPriceError: the product has no such price.
            InvalidQuantityError: the quantity is outside the product's bounds.
            CheckoutError: a subscription product, or any other request the catalog
                cannot serve.
            StripeAPIError: Stripe refused the request.
        """
        account = self._account(stripe_account)
        customer = self._customer_given(buyer)
        plan = self._plan(product, quantity, buyer, price, customer)
        if customer is None and plan.user is not None:
            customer = self._linked(plan.user, account) if self._linked is not None else None
            if customer is None:
                customer = self._new_customer(plan, account)
        plan = _with_customer(plan, customer)
        params = self._params(plan)
        options = account_options(account)
        options["idempotency_key"] = self._idempotency_key(params, idempotency_key, account)
        client = self._client_factory()
        return call_stripe(partial(client.v1.payment_intents.create, params, options))

    async def acreate_intent(
        self,
        product: str,
        quantity: int = 1,
        buyer: Buyer | None = None,
        *,
        price: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> stripe.PaymentIntent:
        """Async twin of ``create_intent``."""
        account = self._account(stripe_account)
        customer = self._customer_given(buyer)
        plan = self._plan(product, quantity, buyer, price, customer)
        if customer is None and plan.user is not None:
            linked = self._alinked
            customer = await linked(plan.user, account) if linked is not None else None
            if customer is None:
                customer = await self._anew_customer(plan, account)
        plan = _with_customer(plan, customer)
        params = self._params(plan)
        options = account_options(account)
        options["idempotency_key"] = self._idempotency_key(params, idempotency_key, account)
        client = self._client_factory()
        return await acall_stripe(partial(client.v1.payment_intents.create_async, params, options))

    def create_subscription(
        self,
        product: str,
        buyer: Buyer | None = None,
        *,
        quantity: int = 1,
        price: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> SubscriptionPayment:
        """Create an ``incomplete`` subscription; the page pays its first invoice.

        Hand ``client_secret`` to ``stripe.elements()`` and confirm it with
        ``stripe.confirmPayment`` as for a one-time payment. Once paid, Stripe makes
        the subscription ``active`` and the card its default; an unpaid one expires
        (``incomplete_expired``) after 23 hours.

        Example:
            >>> made = kit.payments.create_subscription("pro", buyer)  # doctest: +SKIP
            >>> made.client_secret  # doctest: +SKIP
            'pi_..._secret_...'

        Args:
            product: a subscription product's key in the catalog.
            buyer: as for ``create_intent``; every subscription needs a customer, so an
                anonymous buyer gets a new one.
            quantity: a whole number within the product's min/max quantity.
            price: the price's key or lookup_key; the product's first price if ``None``.
            idempotency_key: your key; by default a known buyer's request gets one
                derived from it, so a double submit returns the same subscription.
            stripe_account: a connected account (Connect, ``acct_...``): the subscription
                and its customer are made there, on that account's price.

        Raises:
            UnknownProductError, UnknownPriceError, InvalidQuantityError: as for
                ``create_intent``.
            CheckoutError: a one-time product, a price with a free trial (nothing to
                pay now: use Checkout), or any other request the catalog cannot serve.
            PriceResolutionError: the catalog's price is not in Stripe (run ``stripekit sync``).
            StripeAPIError: Stripe refused the request.
        """
        account = self._account(stripe_account)
        customer = self._customer_given(buyer)
        plan = self._plan(product, quantity, buyer, price, customer, "subscription")
        if customer is None and plan.user is not None and self._linked is not None:
            customer = self._linked(plan.user, account)
        plan = _with_customer(plan, customer or self._new_customer(plan, account))
        resolver = self._resolver().for_account(account)
        price_id = resolver.resolve(plan.price, catalog=self.catalog)
        params = self._subscription_params(plan, price_id)
        options = account_options(account)
        options["idempotency_key"] = self._idempotency_key(params, idempotency_key, account)
        client = self._client_factory()
        made = call_stripe(partial(client.v1.subscriptions.create, params, options))
        return SubscriptionPayment.of(made)

    async def acreate_subscription(
        self,
        product: str,
        buyer: Buyer | None = None,
        *,
        quantity: int = 1,
        price: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> SubscriptionPayment:
        """Async twin of ``create_subscription``."""
        account = self._account(stripe_account)
        customer = self._customer_given(buyer)
        plan = self._plan(product, quantity, buyer, price, customer, "subscription")
        if customer is None and plan.user is not None and self._alinked is not None:
            customer = await self._alinked(plan.user, account)
        plan = _with_customer(plan, customer or await self._anew_customer(plan, account))
        resolver = self._resolver().for_account(account)
        price_id = await resolver.aresolve(plan.price, catalog=self.catalog)
        params = self._subscription_params(plan, price_id)
        options = account_options(account)
        options["idempotency_key"] = self._idempotency_key(params, idempotency_key, account)
        client = self._client_factory()
        made = await acall_stripe(partial(client.v1.subscriptions.create_async, params, options))
        return SubscriptionPayment.of(made)

    def _new_customer(self, plan: _IntentPlan, account: str | None) -> str:
        client = self._client_factory()
        options = self._customer_options(plan, account)
        made = call_stripe(
            partial(client.v1.customers.create, self._customer_params(plan), options)
        )
        return str(made.id)

    async def _anew_customer(self, plan: _IntentPlan, account: str | None) -> str:
        client = self._client_factory()
        options = self._customer_options(plan, account)
        made = await acall_stripe(
            partial(client.v1.customers.create_async, self._customer_params(plan), options)
        )
        return str(made.id)


@dataclass(frozen=True, slots=True)
class SubscriptionPayment:
    """An ``incomplete`` subscription and what the page needs to pay its first invoice.

    ``client_secret`` is the first invoice's PaymentIntent's (``confirmation_secret``):
    mount the Payment Element with it and confirm it with ``stripe.confirmPayment``.
    """

    subscription: stripe.Subscription
    """As Stripe answered, ``latest_invoice.confirmation_secret`` expanded."""
    payment_intent: str
    """The id of the first invoice's PaymentIntent (the return page reads it)."""
    client_secret: str

    @property
    def id(self) -> str:
        """The PaymentIntent's id: what ``/pay/return?payment_intent=`` names."""
        return self.payment_intent

    @classmethod
    def of(cls, subscription: stripe.Subscription) -> SubscriptionPayment:
        """Read the client secret out of a subscription created by ``create_subscription``.

        Raises:
            CheckoutError: the first invoice has nothing to pay (Stripe then made the
                subscription active at once, or Stripe did not expand the invoice).
        """
        invoice = subscription.latest_invoice
        secret = getattr(getattr(invoice, "confirmation_secret", None), "client_secret", None)
        if not isinstance(secret, str) or "_secret_" not in secret:
            raise CheckoutError(
                f"subscription {subscription.id} has no first payment to confirm in the page "
                f"(status {subscription.status})"
            )
        return cls(subscription, secret.split("_secret_", 1)[0], secret)


def _with_customer(plan: _IntentPlan, customer: str | None) -> _IntentPlan:
    from dataclasses import replace

    return replace(plan, customer=customer)
