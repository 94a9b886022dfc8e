"""The billing portal: a customer id in, the URL of a Stripe-hosted portal session out."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from stripekit._connect import account_argument, account_options
from stripekit._errors import CheckoutError
from stripekit._stripe_api import acall_stripe, call_stripe

from ._checkout import customer_problem

if TYPE_CHECKING:
    import stripe
    from stripe.params.billing_portal import SessionCreateParams

    from stripekit._settings import Settings

__all__ = ["BillingPortal"]


class _BillingPortalBase:
    """Everything but the network: checks the customer and where the portal returns to."""

    def __init__(
        self, settings: Settings, client_factory: Callable[[], stripe.StripeClient]
    ) -> None:
        self.settings = settings
        self._client_factory = client_factory

    def _params(self, customer: str, return_url: str | None) -> SessionCreateParams:
        problem = customer_problem(customer)
        if problem is not None:
            raise CheckoutError(problem)
        if return_url is None:
            return {"customer": customer, "return_url": self.settings.portal_return_url_resolved}
        return {"customer": customer, "return_url": self._own_url(return_url)}

    def _own_url(self, url: str) -> str:
        """``url`` if it lies under STRIPEKIT_BASE_URL: the portal is no open redirect."""
        base = self.settings.base_url
        if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
            url = base + url  # a path on this site
        if isinstance(url, str) and not any(c.isspace() or c == "\\" for c in url):
            ours, theirs = urlsplit(base), urlsplit(url)
            prefix = ours.path.rstrip("/")
            if (
                (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower())
                and theirs.username is None
                and (theirs.path == prefix or theirs.path.startswith(prefix + "/"))
            ):
                return url
        raise CheckoutError(
            f"return_url {url!r} is not on this site: give a path (/account) or a URL "
            f"under STRIPEKIT_BASE_URL ({base})"
        )


class BillingPortal(_BillingPortalBase):
    """Opens Stripe's billing portal for a customer, sync (``create``) or async (``acreate``).

    Example:
        >>> portal = BillingPortal(settings, client_factory)  # doctest: +SKIP
        >>> portal.create("cus_123", return_url="/account")  # doctest: +SKIP
        'https://billing.stripe.com/p/session/...'
    """

    def create(
        self, customer: str, *, return_url: str | None = None, stripe_account: str | None = None
    ) -> str:
        """The URL of a new portal session; ``return_url`` defaults to STRIPEKIT_PORTAL_RETURN_URL;
        ``stripe_account``: a connected account's customer (Connect, ``acct_...``).

        Raises:
            CheckoutError: ``customer`` is not a ``cus_...`` id, ``return_url`` leaves the
                site, or ``stripe_account`` is not an ``acct_...`` id.
            StripeAPIError: Stripe refused (an unknown customer, no portal configuration...).
        """
        params = self._params(customer, return_url)
        client = self._client_factory()
        options = account_options(account_argument(stripe_account))
        session = call_stripe(partial(client.v1.billing_portal.sessions.create, params, options))
        return session.url

    async def acreate(
        self, customer: str, *, return_url: str | None = None, stripe_account: str | None = None
    ) -> str:
        """Async twin of ``create``."""
        params = self._params(customer, return_url)
        client = self._client_factory()
        options = account_options(account_argument(stripe_account))
        session = await acall_stripe(
            partial(client.v1.billing_portal.sessions.create_async, params, options)
        )
        return session.url
