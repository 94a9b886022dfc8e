"""Checkout Sessions: a product key and a few choices in, Stripe's exact params out.

What the buyer pays comes only from the catalog (price ids, never amounts from
a request); where the buyer lands comes only from settings (success and cancel
URLs). ``build`` returns the params of ``checkout.sessions.create``, typed as
stripe-python's own ``SessionCreateParams`` so a misspelt key fails the type
check; ``create``/``acreate`` send them with an idempotency key.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Literal

from stripekit._connect import account_argument
from stripekit._errors import CheckoutError, InvalidQuantityError
from stripekit._metadata_keys import METADATA_PRICE, METADATA_PRODUCT, METADATA_USER
from stripekit._stripe_api import acall_stripe, call_stripe
from stripekit.catalog._catalog import metadata_problem

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions
    from stripe.params.checkout import SessionCreateParams, SessionCreateParamsSubscriptionData

    from stripekit._settings import Settings
    from stripekit.catalog._catalog import Catalog, Price, Product
    from stripekit.catalog._prices import PriceResolver

__all__ = ["UI_MODES", "CheckoutBuilder", "UiMode"]

UiMode = Literal["hosted_page", "embedded_page"]
"""Where Checkout takes the card (stripe-python's ``SessionCreateParams.ui_mode``):
Stripe's own page, or mounted in the app's page with Stripe.js."""

UI_MODES: tuple[UiMode, ...] = ("hosted_page", "embedded_page")

_CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]+")
_MAX_TRIAL_DAYS = 730
_MAX_CLIENT_REFERENCE_ID = 200
_MAX_IDEMPOTENCY_KEY = 255


def customer_problem(customer: object) -> str | None:
    """Why this is not a Stripe customer id, or ``None`` when it looks like one."""
    if not isinstance(customer, str) or not _CUSTOMER_ID.fullmatch(customer):
        return f"customer must be a Stripe customer id (cus_...), got {customer!r}"
    return None


@functools.cache
def stripe_locales() -> frozenset[str]:
    """The locales Checkout accepts, read from stripe-python's ``SessionCreateParams``."""
    from stripe.params.checkout import SessionCreateParams

    # The generated annotation is a string ("Literal['auto', ...]|str") that only
    # resolves in its own module, and the class as a whole cannot be resolved
    # (RequestOptions names StripeContext under TYPE_CHECKING): resolve this one field.
    holder = type(
        "_LocaleHint",
        (),
        {
            "__annotations__": {"locale": SessionCreateParams.__annotations__["locale"]},
            "__module__": SessionCreateParams.__module__,
        },
    )
    hint = typing.get_type_hints(holder)["locale"]
    locales = {
        value
        for arg in (*typing.get_args(hint), hint)
        if typing.get_origin(arg) is Literal
        for value in typing.get_args(arg)
    }
    if not locales:  # pragma: no cover - only if stripe-python changes its annotations
        raise RuntimeError(
            "cannot read Checkout's locales from stripe-python's SessionCreateParams"
        )
    return frozenset(locales)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked checkout request, before the price id is known."""

    product: Product
    price: Price
    quantity: int
    customer: str | None
    customer_email: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    allow_promotion_codes: bool | None
    trial_days: int | None
    automatic_tax: bool | None
    locale: str | None
    ui_mode: UiMode


class _CheckoutBase:
    """Everything but the network: checks a request and assembles the params."""

    IDEMPOTENCY_WINDOW: ClassVar[int] = 60
    """Seconds in which an identical request from the same buyer returns the same session."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        resolver: PriceResolver,
        client_factory: Callable[[], stripe.StripeClient],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.resolver = resolver
        self._client_factory = client_factory
        # Wall-clock time, not monotonic: every worker process must agree on the bucket.
        self._clock = clock

    def _plan(
        self,
        product: str,
        price: str | None,
        quantity: object,
        customer: str | None,
        customer_email: str | None,
        client_reference_id: str | None,
        metadata: Mapping[str, str] | None,
        allow_promotion_codes: bool | None,
        trial_days: int | None,
        automatic_tax: bool | None,
        locale: str | None,
        ui_mode: str | None = None,
    ) -> _Plan:
        found, chosen = self.catalog.price(product, price)
        # bool is an int to Python, and "2" is what a form sends: neither is a quantity.
        if (
            not isinstance(quantity, int)
            or isinstance(quantity, bool)
            or not found.min_quantity <= quantity <= found.max_quantity
        ):
            raise InvalidQuantityError(found.key, quantity, found.min_quantity, found.max_quantity)
        if customer is not None and customer_email is not None:
            raise CheckoutError(
                "give customer or customer_email, not both: Checkout takes the email "
                "from an existing customer"
            )
        if customer is not None and (problem := customer_problem(customer)):
            raise CheckoutError(problem)
        if customer_email is not None and (
            not isinstance(customer_email, str)
            or "@" not in customer_email
            or any(c.isspace() for c in customer_email)
        ):
            raise CheckoutError(f"customer_email must be an email address, got {customer_email!r}")
        if client_reference_id is not None and (
            not isinstance(client_reference_id, str)
            or not 0 < len(client_reference_id) <= _MAX_CLIENT_REFERENCE_ID
        ):
            raise CheckoutError(
                f"client_reference_id must be a string of 1 to {_MAX_CLIENT_REFERENCE_ID} "
                "characters"
            )
        return _Plan(
            product=found,
            price=chosen,
            quantity=quantity,
            customer=customer,
            customer_email=customer_email,
            client_reference_id=client_reference_id,
            metadata=self._metadata(found, chosen, metadata, client_reference_id),
            allow_promotion_codes=_flag("allow_promotion_codes", allow_promotion_codes),
            trial_days=self._trial(found, chosen, trial_days),
            automatic_tax=_flag("automatic_tax", automatic_tax),
            locale=_locale(locale),
            ui_mode=_ui_mode(ui_mode),
        )

    @staticmethod
    def _metadata(
        product: Product, price: Price, extra: Mapping[str, str] | None, user: str | None
    ) -> dict[str, str]:
        extra = dict(extra or {})
        reserved = sorted(k for k in extra if isinstance(k, str) and k.startswith("stripekit_"))
        if reserved:
            # Webhook handlers trust these to say what was bought: only the kit sets them.
            raise CheckoutError(f"metadata key {reserved[0]!r} is reserved for stripekit")
        merged = {**extra, METADATA_PRODUCT: product.key, METADATA_PRICE: price.key}
        if user is not None:
            # On the session, its subscription and its payment: each of their events
            # then names the app's user, whichever arrives first.
            merged[METADATA_USER] = user
        problem = metadata_problem(merged)
        if problem is not None:
            raise CheckoutError(f"metadata {problem}")
        return merged

    @staticmethod
    def _trial(product: Product, price: Price, override: int | None) -> int | None:
        if override is None:
            return price.trial_days
        if (
            not isinstance(override, int)
            or isinstance(override, bool)
            or not 0 <= override <= _MAX_TRIAL_DAYS
        ):
            raise CheckoutError(
                f"trial_days must be a whole number from 0 (no trial) to {_MAX_TRIAL_DAYS}, "
                f"got {override!r}"
            )
        if override and product.mode != "subscription":
            raise CheckoutError(
                f'product {product.key!r} is a one-time purchase (mode = "payment"): '
                "only subscriptions have trials"
            )
        return override or None

    def _params(self, plan: _Plan, price_id: str) -> SessionCreateParams:
        params: SessionCreateParams = {
            "mode": plan.product.mode,
            "line_items": [{"price": price_id, "quantity": plan.quantity}],
            "metadata": dict(plan.metadata),
        }
        if plan.ui_mode == "embedded_page":
            # Mounted in the app's page: Checkout has no back link, and sends the buyer
            # to one return URL (Stripe refuses success_url and cancel_url here).
            params["ui_mode"] = "embedded_page"
            params["return_url"] = self.settings.return_url_template
        else:
            params["success_url"] = self.settings.success_url_template
            params["cancel_url"] = self.settings.cancel_url_resolved
        if plan.product.mode == "subscription":
            subscription: SessionCreateParamsSubscriptionData = {"metadata": dict(plan.metadata)}
            if plan.trial_days is not None:
                subscription["trial_period_days"] = plan.trial_days
            params["subscription_data"] = subscription
        else:
            params["payment_intent_data"] = {"metadata": dict(plan.metadata)}
        if plan.customer is not None:
            params["customer"] = plan.customer
        if plan.customer_email is not None:
            params["customer_email"] = plan.customer_email
        if plan.client_reference_id is not None:
            params["client_reference_id"] = plan.client_reference_id
        if plan.allow_promotion_codes is not None:
            params["allow_promotion_codes"] = plan.allow_promotion_codes
        if plan.automatic_tax is not None:
            params["automatic_tax"] = {"enabled": plan.automatic_tax}
        if plan.locale is not None:
            params["locale"] = plan.locale
        return params

    def _idempotency_key(self, params: SessionCreateParams, given: str | None) -> str | None:
        """The caller's key; else one derived from the request, but only for a known buyer."""
        if given is not None:
            if not isinstance(given, str) or not 0 < len(given) <= _MAX_IDEMPOTENCY_KEY:
                raise CheckoutError(
                    f"idempotency_key must be a string of 1 to {_MAX_IDEMPOTENCY_KEY} characters"
                )
            return given
        # Two anonymous buyers of the same product send identical params: a key
        # derived from them would hand the second buyer the first one's session
        # (their email, their payment). So a key is derived only when the request
        # names its buyer; anonymous sessions get stripe-python's random key,
        # which still makes its own network retries safe.
        if not any(
            name in params for name in ("customer", "customer_email", "client_reference_id")
        ):
            return None
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
        # A double click lands in the same window; the same request a few minutes
        # later is a new purchase. (A double click across a window edge gets two
        # sessions, which is harmless: only one of them is paid.)
        window = int(self._clock() // self.IDEMPOTENCY_WINDOW)
        digest = hashlib.sha256(f"{window}:{canonical}".encode()).hexdigest()
        return f"stripekit-checkout-{digest}"


class CheckoutBuilder(_CheckoutBase):
    """Builds and creates Checkout Sessions from the catalog, sync or async.

    Example:
        >>> builder = CheckoutBuilder(settings, catalog, resolver, client_factory)  # doctest: +SKIP
        >>> session = builder.create("pro", price="yearly", customer="cus_123")  # doctest: +SKIP
        >>> session.url  # doctest: +SKIP
        'https://checkout.stripe.com/c/pay/cs_test_...'
    """

    def build(
        self,
        product: str,
        *,
        price: str | None = None,
        quantity: int = 1,
        customer: str | None = None,
        customer_email: str | None = None,
        client_reference_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        allow_promotion_codes: bool | None = None,
        trial_days: int | None = None,
        automatic_tax: bool | None = None,
        locale: str | None = None,
        ui_mode: UiMode | None = None,
        stripe_account: str | None = None,
    ) -> SessionCreateParams:
        """The exact params of ``checkout.sessions.create`` for this request.

        Args:
            product: the product's key in the catalog.
            price: the price's key or lookup_key; the product's first price if ``None``.
            quantity: a whole number within the product's min/max quantity.
            customer: an existing Stripe customer (``cus_...``).
            customer_email: prefills the email (not with ``customer``).
            client_reference_id: your reference (user or cart id), echoed in webhooks.
            metadata: extra metadata; ``stripekit_product`` and ``stripekit_price`` are added.
            allow_promotion_codes: let the buyer enter promotion codes.
            trial_days: override the price's trial (``0``: no trial); subscriptions only.
            automatic_tax: turn Stripe Tax on or off for this session.
            locale: one of Checkout's locales (``"auto"``, ``"fr"``, ``"pt-BR"``...).
            ui_mode: ``"hosted_page"`` (the default: Stripe's page, success and cancel
                URLs) or ``"embedded_page"`` (mounted in your page with Stripe.js; the
                return URL of ``STRIPEKIT_RETURN_URL``, and the session's
                ``client_secret`` for ``initEmbeddedCheckout``).
            stripe_account: a connected account (Connect, ``acct_...``): the session is
                made there, its price found by lookup_key among that account's prices.

        Raises:
            UnknownProductError: no product with that key.
            UnknownPriceError: the product has no such price.
            InvalidQuantityError: the quantity is outside the product's bounds.
            CheckoutError: any other request the catalog cannot serve.
            PriceResolutionError: the price's Stripe id cannot be found.
            StripeAPIError: Stripe refused the lookup of the price id.
        """
        plan = self._plan(
            product, price, quantity, customer, customer_email, client_reference_id,
            metadata, allow_promotion_codes, trial_days, automatic_tax, locale, ui_mode,
        )  # fmt: skip
        resolver = self.resolver.for_account(account_argument(stripe_account))
        return self._params(plan, resolver.resolve(plan.price, catalog=self.catalog))

    async def abuild(
        self,
        product: str,
        *,
        price: str | None = None,
        quantity: int = 1,
        customer: str | None = None,
        customer_email: str | None = None,
        client_reference_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        allow_promotion_codes: bool | None = None,
        trial_days: int | None = None,
        automatic_tax: bool | None = None,
        locale: str | None = None,
        ui_mode: UiMode | None = None,
        stripe_account: str | None = None,
    ) -> SessionCreateParams:
        """Async twin of ``build`` (the price id may need a call to Stripe)."""
        plan = self._plan(
            product, price, quantity, customer, customer_email, client_reference_id,
            metadata, allow_promotion_codes, trial_days, automatic_tax, locale, ui_mode,
        )  # fmt: skip
        resolver = self.resolver.for_account(account_argument(stripe_account))
        return self._params(plan, await resolver.aresolve(plan.price, catalog=self.catalog))

    def create(
        self,
        product: str,
        *,
        price: str | None = None,
        quantity: int = 1,
        customer: str | None = None,
        customer_email: str | None = None,
        client_reference_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        allow_promotion_codes: bool | None = None,
        trial_days: int | None = None,
        automatic_tax: bool | None = None,
        locale: str | None = None,
        ui_mode: UiMode | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> stripe.checkout.Session:
        """Create the Checkout Session (see ``build``); send the buyer to its ``url``
        (hosted), or hand its ``client_secret`` to Stripe.js (embedded).

        Args:
            idempotency_key: your key for this request; by default a request that
                names its buyer gets one derived from it, so a double submit
                returns the same session.
            stripe_account: a connected account (Connect, ``acct_...``): the session is
                made there (``Stripe-Account``), with that account's price.
        """
        params = self.build(
            product, price=price, quantity=quantity, customer=customer,
            customer_email=customer_email, client_reference_id=client_reference_id,
            metadata=metadata, allow_promotion_codes=allow_promotion_codes,
            trial_days=trial_days, automatic_tax=automatic_tax, locale=locale, ui_mode=ui_mode,
            stripe_account=stripe_account,
        )  # fmt: skip
        key = self._idempotency_key(params, idempotency_key)
        client = self._client_factory()
        options = _options(key, stripe_account)
        return call_stripe(partial(client.v1.checkout.sessions.create, params, options))

    async def acreate(
        self,
        product: str,
        *,
        price: str | None = None,
        quantity: int = 1,
        customer: str | None = None,
        customer_email: str | None = None,
        client_reference_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        allow_promotion_codes: bool | None = None,
        trial_days: int | None = None,
        automatic_tax: bool | None = None,
        locale: str | None = None,
        ui_mode: UiMode | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
    ) -> stripe.checkout.Session:
        """Async twin of ``create``."""
        params = await self.abuild(
            product, price=price, quantity=quantity, customer=customer,
            customer_email=customer_email, client_reference_id=client_reference_id,
            metadata=metadata, allow_promotion_codes=allow_promotion_codes,
            trial_days=trial_days, automatic_tax=automatic_tax, locale=locale, ui_mode=ui_mode,
            stripe_account=stripe_account,
        )  # fmt: skip
        key = self._idempotency_key(params, idempotency_key)
        client = self._client_factory()
        options = _options(key, stripe_account)
        return await acall_stripe(
            partial(client.v1.checkout.sessions.create_async, params, options)
        )


def _options(key: str | None, stripe_account: str | None) -> RequestOptions:
    options: RequestOptions = {"idempotency_key": key}
    if stripe_account is not None:
        options["stripe_account"] = stripe_account
    return options


def _flag(name: str, value: bool | None) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise CheckoutError(f"{name} must be True, False or None, got {value!r}")
    return value


def _ui_mode(ui_mode: object) -> UiMode:
    if ui_mode is None:
        return "hosted_page"
    for known in UI_MODES:
        if ui_mode == known:
            return known
    raise CheckoutError(
        f"ui_mode must be one of {', '.join(UI_MODES)} (as stripe-python names them), "
        f"got {ui_mode!r}"
    )


def _locale(locale: str | None) -> str | None:
    if locale is None:
        return None
    known = stripe_locales()
    if locale not in known:
        hint = difflib.get_close_matches(str(locale), sorted(known), n=1)
        tip = f"did you mean {hint[0]!r}? " if hint else ""
        raise CheckoutError(
            f"Checkout has no locale {locale!r}; {tip}use 'auto' to follow the browser"
        )
    return locale
