"""``manage.py stripekit_events``: ``stripekit events``, with this project's settings."""

from __future__ import annotations

from stripekit_django.management._cli import StripekitCommand


class Command(StripekitCommand):
    """List, show, replay and sweep the webhook events this project recorded (stripekit events)."""

    help = (
        "List, show, replay and sweep the webhook events this project recorded (stripekit events)."
    )
    name = "stripekit_events"
    cli_command = ("events",)
