"""FastAPI / Starlette routes and pages for stripekit: one call mounts a whole shop.

Example:
    >>> from fastapi import FastAPI
    >>> from stripekit import StripeKit
    >>> from stripekit_fastapi import stripekit_router
    >>> kit = StripeKit(secret_key="sk_test_x", webhook_secret="whsec_x")
    >>> app = FastAPI()
    >>> app.include_router(stripekit_router(kit), prefix="/stripe")
"""

from __future__ import annotations

from stripekit import Buyer

from ._middleware import WebhookMiddleware
from ._router import stripekit_router, stripekit_routes

__all__ = ["Buyer", "WebhookMiddleware", "stripekit_router", "stripekit_routes"]
