"""The one place stripekit builds a Stripe client and turns Stripe's errors into its own.

``stripe`` is imported here lazily: importing stripekit must stay cheap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._errors import StripeAPIError

if TYPE_CHECKING:
    import stripe

    from ._settings import Settings

__all__ = ["acall_stripe", "call_stripe", "make_client", "map_stripe_error"]

T = TypeVar("T")


def make_client(
    settings: Settings, *, http_client: stripe.HTTPClient | None = None
) -> stripe.StripeClient:
    """A StripeClient for these settings; ``api_base`` points it at the emulator.

    The code path is the same for Stripe and the emulator: only the base differs.
    """
    import stripe

    base: dict[str, str | None] | None = None
    if settings.api_base:
        base = {"api": settings.api_base, "connect": settings.api_base, "files": settings.api_base}
    return stripe.StripeClient(
        settings.require_secret_key(),
        base_addresses=base,  # type: ignore[arg-type]
        # Safe: stripe-python adds an idempotency key to retried POSTs.
        max_network_retries=2,
        http_client=http_client,
    )


def map_stripe_error(exc: Exception) -> StripeAPIError:
    """A ``stripe.StripeError`` as a StripeAPIError, keeping status, code and request id."""
    import stripe

    if not isinstance(exc, stripe.StripeError):  # pragma: no cover - callers pass StripeErrors
        return StripeAPIError(f"Stripe request failed: {exc.__class__.__name__}")
    message = exc.user_message or exc._message or exc.__class__.__name__
    if isinstance(exc, stripe.APIConnectionError):
        message = f"could not reach Stripe ({message}); check STRIPE_API_BASE and the network"
    return StripeAPIError(
        f"Stripe answered an error: {message}",
        status=exc.http_status,
        code=exc.code,
        request_id=exc.request_id,
    )


def call_stripe(call: Callable[[], T]) -> T:
    """Run a Stripe call, raising StripeAPIError instead of stripe's own errors."""
    import stripe

    try:
        return call()
    except stripe.StripeError as exc:
        raise map_stripe_error(exc) from exc


async def acall_stripe(call: Callable[[], Awaitable[T]]) -> T:
    """Async twin of ``call_stripe``."""
    import stripe

    try:
        return await call()
    except stripe.StripeError as exc:
        raise map_stripe_error(exc) from exc
