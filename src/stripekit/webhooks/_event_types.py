"""The event types Stripe can send, read from stripe-python so they track its upgrades."""

from __future__ import annotations

import difflib
import fnmatch
import functools
import typing

from stripekit._errors import UnknownEventTypeError

__all__ = ["check_pattern", "known_event_types"]


@functools.cache
def known_event_types() -> frozenset[str]:
    """Every snapshot (v1) and thin (v2) event type stripe-python knows."""
    from stripe.params._webhook_endpoint_create_params import WebhookEndpointCreateParams

    enabled = WebhookEndpointCreateParams.__annotations__["enabled_events"]
    # List[Literal["*", "account.updated", ...]]
    literal = typing.get_args(enabled)[0]
    types = {t for t in typing.get_args(literal) if t != "*"}
    try:
        from stripe.events._event_classes import _V2_EVENT_NOTIFICATION_CLASS_LOOKUP
    except ImportError:  # pragma: no cover - a stripe-python without thin events
        pass
    else:
        types.update(_V2_EVENT_NOTIFICATION_CLASS_LOOKUP)
    return frozenset(types)


def check_pattern(pattern: str) -> str:
    """Return the pattern if it matches at least one Stripe event type, else raise.

    Patterns are exact types, ``"*"``, or shell-style wildcards such as
    ``"customer.subscription.*"``.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise UnknownEventTypeError(
            f"an event type must be a non-empty string like 'invoice.paid', not {pattern!r}"
        )
    if pattern == "*":
        return pattern
    known = known_event_types()
    if "*" in pattern or "?" in pattern or "[" in pattern:
        if any(fnmatch.fnmatchcase(t, pattern) for t in known):
            return pattern
    elif pattern in known:
        return pattern
    close = difflib.get_close_matches(pattern, sorted(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownEventTypeError(f"Stripe sends no event of type {pattern!r}{hint}")
