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

__all__ = [
    "acall_stripe",
    "call_stripe",
    "make_client",
    "map_stripe_error",
    "pinned_api_version",
    "unreachable_message",
]

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")  # noqa: S104 - names, not binds

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
        stripe_version=settings.stripe_api_version,
        # Safe: stripe-python adds an idempotency key to retried POSTs.
        max_network_retries=2,
        http_client=http_client,
    )


def pinned_api_version() -> str:
    """The API version stripe-python pins (its types and the kit's readers follow it)."""
    import stripe

    return str(stripe.api_version)


def map_stripe_error(exc: Exception) -> StripeAPIError:
    """A ``stripe.StripeError`` as a StripeAPIError, keeping status, code and request id."""
    import stripe

    if not isinstance(exc, stripe.StripeError):  # pragma: no cover - callers pass StripeErrors
        return StripeAPIError(f"Stripe request failed: {exc.__class__.__name__}")
    if isinstance(exc, stripe.APIConnectionError):
        return StripeAPIError(unreachable_message(exc))
    message = exc.user_message or exc._message or exc.__class__.__name__
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


def unreachable_message(exc: BaseException) -> str:
    """One line for a Stripe API that did not answer: where, why, and what to do.

    stripe-python raises ``APIConnectionError`` from the HTTP library's own error
    (requests' or httpx's), which carries the request: its URL says where.

    Example:
        >>> import requests, stripe
        >>> cause = requests.ConnectionError("[Errno 111] Connection refused")
        >>> cause.request = requests.Request("GET", "http://127.0.0.1:12111/v1/prices").prepare()
        >>> try:
        ...     raise stripe.APIConnectionError("Network error") from cause
        ... except stripe.APIConnectionError as exc:
        ...     print(unreachable_message(exc))
        could not reach Stripe at http://127.0.0.1:12111: connection refused; is `stripekit emulator` running?
    """  # noqa: E501
    from urllib.parse import urlsplit

    cause = exc.__cause__ or exc.__context__
    request = getattr(cause, "request", None) if cause is not None else None
    url = urlsplit(str(getattr(request, "url", "") or ""))
    where = f" at {url.scheme}://{url.netloc}" if url.netloc else ""
    text = " ".join(str(cause or exc).lower().split())
    if "refused" in text:
        reason = "connection refused"
    elif "timed out" in text or "timeout" in type(cause).__name__.lower():
        reason = "no answer in time"
    elif "name or service not known" in text or "nodename nor servname" in text:
        reason = "unknown host"
    else:
        reason = type(cause or exc).__name__
    if url.hostname in _LOCAL_HOSTS:
        hint = "is `stripekit emulator` running?"
    else:
        hint = "check STRIPE_API_BASE and the network"
    return f"could not reach Stripe{where}: {reason}; {hint}"


async def acall_stripe(call: Callable[[], Awaitable[T]]) -> T:
    """Async twin of ``call_stripe``."""
    import stripe

    try:
        return await call()
    except stripe.StripeError as exc:
        raise map_stripe_error(exc) from exc
