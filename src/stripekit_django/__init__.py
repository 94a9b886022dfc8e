"""Django integration for stripekit: urls, views, the ORM event store and billing state, admin.

Example (settings.py and urls.py):
    >>> INSTALLED_APPS = [..., "stripekit_django"]  # doctest: +SKIP
    >>> STRIPEKIT = {"PRODUCTS": BASE_DIR / "products.toml"}  # doctest: +SKIP
    >>> urlpatterns = [path("stripe/", include("stripekit_django.urls"))]  # doctest: +SKIP

Handlers, in any module listed in ``STRIPEKIT["HANDLERS"]`` or an app's
``stripe_handlers.py``::

    from stripekit_django import webhooks

    @webhooks.on("checkout.session.completed")
    def fulfil(event): ...
"""

from __future__ import annotations

from stripekit import Buyer

from .conf import get_kit, webhooks

__all__ = ["Buyer", "get_kit", "webhooks"]
