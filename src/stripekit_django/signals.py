"""Django signals for projects that prefer them to ``@webhooks.on`` handlers.

``stripe_event`` is sent for every event dispatched, inside the same transaction
as the handlers: a receiver that raises fails the event like a handler does.

Example:
    >>> from django.dispatch import receiver
    >>> @receiver(stripe_event)  # doctest: +SKIP
    ... def on_event(sender, event, **kwargs):
    ...     if event.type == "invoice.paid": ...
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from stripekit import Event

__all__ = ["send_stripe_event", "stripe_event"]

stripe_event = Signal()
"""Sent with ``event`` (a stripekit Event) and ``event_type``."""


def send_stripe_event(event: Event) -> None:
    """The catch-all handler that turns each event into a ``stripe_event`` signal."""
    responses: list[tuple[Any, Any]] = stripe_event.send(
        sender=Event, event=event, event_type=event.type
    )
    del responses
