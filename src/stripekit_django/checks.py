"""System checks: ``manage.py check`` says what is missing, with a hint to fix it."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Warning, register
from django.urls import NoReverseMatch, reverse

from stripekit import ConfigurationError, Settings

__all__ = ["check_stripekit"]


@register("stripekit")
def check_stripekit(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """stripekit.E001 to E006 and W001."""
    from .conf import hook_problems, kit_options, queue_problems

    try:
        settings = Settings(**kit_options())
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Fix STRIPEKIT in settings.py or the environment.",
                      id="stripekit.E004")]  # fmt: skip
    problems: list[Error | Warning] = []
    if settings.secret_key is None:
        problems.append(Error(
            "No Stripe secret key.",
            hint='Set STRIPEKIT["SECRET_KEY"] or the STRIPE_SECRET_KEY environment variable '
            "(sk_test_... from the Dashboard, or any sk_test_ key with the emulator).",
            id="stripekit.E001",
        ))  # fmt: skip
    if not settings.webhook_secret:
        problems.append(Error(
            "No webhook signing secret: every webhook would be refused.",
            hint='Set STRIPEKIT["WEBHOOK_SECRET"] or STRIPE_WEBHOOK_SECRET to the endpoint\'s '
            "whsec_... secret.",
            id="stripekit.E002",
        ))  # fmt: skip
    if settings.products is None:
        problems.append(Error(
            "No products file.",
            hint='Set STRIPEKIT["PRODUCTS"] or STRIPEKIT_PRODUCTS to your products.toml.',
            id="stripekit.E003",
        ))  # fmt: skip
    else:
        from stripekit import Catalog

        try:
            Catalog.load(settings.products)
        except ConfigurationError as exc:
            problems.append(Error(str(exc), hint="Fix the products file.", id="stripekit.E003"))
    for key, problem in hook_problems():
        problems.append(Error(
            problem,
            hint=f'Point STRIPEKIT["{key}"] at a function of the request (a dotted path '
            "or the function itself).",
            id="stripekit.E005",
        ))  # fmt: skip
    for problem in queue_problems():
        problems.append(Error(
            problem,
            hint='Point STRIPEKIT["QUEUE"] at a queue whose backend is in TASKS and serves '
            "its queue name (the backend's QUEUES setting).",
            id="stripekit.E006",
        ))  # fmt: skip
    try:
        reverse("stripekit:webhook")
    except NoReverseMatch:
        problems.append(Warning(
            "The webhook URL is not mounted: Stripe's events have nowhere to go.",
            hint='Add path("stripe/", include("stripekit_django.urls")) to your urls.py.',
            id="stripekit.W001",
        ))  # fmt: skip
    return problems
