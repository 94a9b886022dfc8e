"""``manage.py stripekit_check``: ``stripekit check``, with this project's settings."""

from __future__ import annotations

from stripekit_django.management._cli import StripekitCommand


class Command(StripekitCommand):
    """Check keys, the products file, prices and the webhook setup (stripekit check)."""

    help = "Check keys, the products file, prices and the webhook setup (stripekit check)."
    name = "stripekit_check"
    cli_command = ("check",)
