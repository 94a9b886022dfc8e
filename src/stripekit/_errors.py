"""The one exception tree of stripekit.

Every error a user can cause says what to fix. Integrations map these to HTTP
answers by class, never by message::

    StripekitError
    ├── ConfigurationError          settings or a products file is wrong
    │   ├── CatalogError            a products file is invalid (file, product, field)
    │   └── MissingExtraError       an optional package is not installed (names the extra)
    ├── CheckoutError               a checkout request the catalog cannot serve
    │   ├── UnknownProductError     no product with that key          → 404
    │   ├── UnknownPriceError       the product has no such price     → 404
    │   ├── UnknownSessionError     a success page for no known session → 404
    │   └── InvalidQuantityError    quantity outside the product's bounds → 422
    ├── BillingError                a billing operation that cannot be done as asked → 400
    │   └── UnknownBillingObjectError   no such subscription, purchase or invoice for
    │                                   this user (never acted on)          → 404
    ├── PriceResolutionError        a price's Stripe id cannot be found
    ├── StripeAPIError              Stripe answered with an error     → 502
    ├── WebhookError                a webhook delivery was refused
    │   ├── SignatureError          missing, malformed, expired or wrong signature → 400
    │   ├── PayloadError            the body is not a Stripe event    → 400
    │   └── PayloadTooLargeError    the body is over the size limit   → 413
    ├── UnknownEventTypeError       a handler registered for a type Stripe never sends
    ├── EventStoreError             the event store cannot be used
    ├── BackfillError               a backfill asked for events Stripe no longer keeps
    ├── DeferredProcessingError     a deferred task's event did not run to the end (the
    │                               task queue retries the task)
    └── SyncError                   products sync stopped halfway (what was done, what was not)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackfillError",
    "BillingError",
    "CatalogError",
    "CheckoutError",
    "ConfigurationError",
    "DeferredProcessingError",
    "EventStoreError",
    "InvalidQuantityError",
    "MissingExtraError",
    "PayloadError",
    "PayloadTooLargeError",
    "PriceResolutionError",
    "SignatureError",
    "StripeAPIError",
    "StripekitError",
    "SyncError",
    "UnknownBillingObjectError",
    "UnknownEventTypeError",
    "UnknownPriceError",
    "UnknownProductError",
    "UnknownSessionError",
    "WebhookError",
]


class StripekitError(Exception):
    """Base class of every error stripekit raises."""


def shown(value: object, limit: int = 60) -> str:
    """A value a client sent, fit for a message: its ASCII repr, cut at ``limit`` characters.

    Messages travel to pages, JSON answers and logs: a 5,000-digit "quantity" or
    a lone surrogate must not travel with them.
    """
    text = ascii(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ConfigurationError(StripekitError):
    """Settings are missing or inconsistent; the message names the variable to fix."""


class MissingExtraError(ConfigurationError):
    """A command or helper needs an optional package; the message names the extra to install.

    Example:
        >>> str(MissingExtraError("stripekit emulator", "uvicorn", "emulator")).split(":")[0]
        'stripekit emulator needs uvicorn, which is not installed'
    """

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(
            f"{what} needs {module}, which is not installed: install stripekit with its "
            f'[{extra}] extra (pip install -e ".[{extra}]" in a checkout)'
        )
        self.module = module
        self.extra = extra


class CatalogError(ConfigurationError):
    """A products file (or catalog built in Python) is invalid.

    Attributes:
        file: the products file, or ``None`` for a catalog built in Python.
        product: the key of the product at fault, if one is.
        field: the dotted field at fault, e.g. ``prices[0].interval``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        product: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.product = product
        self.field = field
        self.reason = message
        where = [f"{file}" if file else "catalog"]
        if product is not None:
            where.append(f"product {product!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class CheckoutError(StripekitError):
    """A checkout request the catalog cannot serve."""


class UnknownProductError(CheckoutError, LookupError):
    """No product has this key; integrations answer 404."""

    def __init__(self, key: str, known: list[str]) -> None:
        self.key = key
        self.known = known
        choices = ", ".join(repr(k) for k in known) or "none: the catalog is empty"
        super().__init__(f"unknown product {shown(key)}; the catalog has {choices}")


class UnknownPriceError(CheckoutError, LookupError):
    """The product exists but has no price with this key; integrations answer 404."""

    def __init__(self, product: str, price: str, known: list[str]) -> None:
        self.product = product
        self.price = price
        self.known = known
        super().__init__(
            f"product {product!r} has no price {shown(price)}; "
            f"choose one of {', '.join(repr(k) for k in known)}"
        )


class InvalidQuantityError(CheckoutError, ValueError):
    """The quantity is outside the product's bounds; integrations answer 422."""

    def __init__(self, product: str, quantity: object, minimum: int, maximum: int) -> None:
        self.product = product
        self.quantity = quantity
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(
            f"quantity {shown(quantity)} is not allowed for product {product!r}: "
            f"give a whole number from {minimum} to {maximum}"
        )


class UnknownSessionError(CheckoutError, LookupError):
    """The success page was given a session id Stripe does not know (or not one at all)."""


class BillingError(StripekitError):
    """A billing operation that cannot be done as asked; the message says why."""


class UnknownBillingObjectError(BillingError, LookupError):
    """No such subscription, purchase or invoice, or not the user's: a 404, never an action."""


class PriceResolutionError(StripekitError):
    """A price's Stripe id is in neither the file, its env var, nor Stripe (by lookup_key)."""


class StripeAPIError(StripekitError):
    """Stripe answered a request with an error.

    Attributes:
        status: the HTTP status Stripe answered, if any.
        code: Stripe's error code (``resource_missing``...), if any.
        request_id: Stripe's ``Request-Id``, for support and logs.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.request_id = request_id
        super().__init__(message)


class WebhookError(StripekitError):
    """A webhook delivery was refused before any handler ran.

    Attributes:
        status: the HTTP status an integration answers with.
    """

    status: int = 400


class SignatureError(WebhookError):
    """The ``Stripe-Signature`` header is missing, malformed, expired or does not match."""


class PayloadError(WebhookError):
    """The body is not a JSON Stripe event (nor a thin event notification)."""


class PayloadTooLargeError(WebhookError):
    """The body is larger than the configured limit."""

    status = 413


class UnknownEventTypeError(StripekitError, ValueError):
    """A handler was registered for an event type or pattern that Stripe never sends."""


class EventStoreError(StripekitError):
    """The event store cannot be reached, or its schema is not one this version knows."""


class BackfillError(StripekitError, ValueError):
    """A backfill asked for what Stripe's events list cannot give (older than 30 days)."""


class DeferredProcessingError(StripekitError):
    """A deferred task did not run its event to the end: a handler raised, the store
    was unreachable, or the store has no such event. Raised from the task so that the
    queue's own retry policy retries it; the store shows the event ``failed`` with the
    handler's error (``stripekit events list --status failed``).

    Attributes:
        event_id: the event's id.
        outcome: ``failed``, ``unavailable``, ``error`` or ``missing``.
    """

    def __init__(self, result: Any) -> None:
        if isinstance(result, tuple):  # unpickled (a task queue sends it between processes)
            event_id, outcome = result
        else:
            event_id, outcome = result.event_id, result.outcome
        self.event_id: str | None = event_id
        self.outcome: str = outcome
        reason = {
            "failed": "a handler raised; the store keeps its error",
            "unavailable": "the event store could not be reached",
            "missing": "the event store has no such event: does the worker use the "
            "web app's database (STRIPEKIT_DATABASE_URL)?",
        }.get(outcome, "stripekit failed unexpectedly (see the log)")
        super().__init__(f"event {event_id} was not processed ({outcome}): {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), ((self.event_id, self.outcome),))


class SyncError(StripekitError):
    """Products sync stopped at a failed write; running it again finishes the job.

    Attributes:
        done: the actions carried out before the failure.
        failed: the action that failed.
        remaining: the actions not attempted.
    """

    def __init__(
        self,
        message: str,
        *,
        done: tuple[Any, ...] = (),
        failed: Any = None,
        remaining: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(message)
        self.done = done
        self.failed = failed
        self.remaining = remaining
