"""``manage.py stripekit_products``: ``stripekit products``, with this project's settings."""

from __future__ import annotations

from stripekit_django.management._cli import StripekitCommand


class Command(StripekitCommand):
    """Make Stripe match the products file, or write one from Stripe (stripekit products)."""

    help = "Make Stripe match the products file, or write one from Stripe (stripekit products)."
    name = "stripekit_products"
    cli_command = ("products",)
