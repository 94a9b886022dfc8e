"""``manage.py stripekit_billing``: ``stripekit billing``, with this project's settings."""

from __future__ import annotations

from stripekit_django.management._cli import StripekitCommand


class Command(StripekitCommand):
    """Repair the billing state in the project's database from Stripe (stripekit billing)."""

    help = "Repair the billing state in the project's database from Stripe (stripekit billing)."
    name = "stripekit_billing"
    cli_command = ("billing",)
