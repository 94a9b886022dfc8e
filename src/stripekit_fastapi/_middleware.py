"""``WebhookMiddleware``: Stripe's deliveries answered before the app's routing.

The webhook route is the one under load, and in a FastAPI app most of its time
outside the kit is FastAPI's: its router, its per-request exit stack and the
wrapping of every handler (``benchmarks/webhook_endpoint.py`` measures it:
``kit`` against ``kit_lane``). This middleware answers ``POST`` to the webhook's
path itself, with the route's own code (``serve_webhook``), so a delivery skips
all of that; every other request goes on to the app unchanged. The route stays
mounted (OpenAPI documents it; without the middleware it answers).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from stripekit import StripeKit

from ._webhook import serve_webhook

__all__ = ["WebhookMiddleware"]


class WebhookMiddleware:
    """ASGI middleware answering Stripe's webhook deliveries before the app's routing.

    ``POST`` to ``path`` is handled exactly as the mounted webhook route handles it
    (same verification, recording, handlers, status and JSON); every other request,
    a ``GET`` to the same path included, goes to the app. Middleware the app added
    *before* this one does not see the deliveries; middleware added after it
    does (Starlette runs the last added first).

    Args:
        app: the ASGI app to wrap (given by ``add_middleware``).
        kit: the app's StripeKit, the one ``stripekit_router`` mounts.
        path: the webhook's path as the app sees it: the router's prefix and
            ``/webhook``. A ``root_path`` the server strips is not part of it.

    Example:
        >>> from fastapi import FastAPI
        >>> from stripekit import StripeKit
        >>> from stripekit_fastapi import WebhookMiddleware, stripekit_router
        >>> kit = StripeKit(secret_key="sk_test_x", webhook_secret="whsec_x")
        >>> app = FastAPI()
        >>> app.include_router(stripekit_router(kit), prefix="/stripe")
        >>> app.add_middleware(WebhookMiddleware, kit=kit, path="/stripe/webhook")
    """

    def __init__(self, app: ASGIApp, *, kit: StripeKit, path: str = "/stripe/webhook") -> None:
        if not isinstance(kit, StripeKit):
            raise TypeError(
                f"WebhookMiddleware(kit=...) takes the app's StripeKit, not {type(kit).__name__}"
            )
        if not path.startswith("/") or path != path.strip() or "?" in path:
            raise ValueError(
                f"WebhookMiddleware(path={path!r}): give the webhook's path as the app "
                'routes it, starting with "/", without a query: "/stripe/webhook" for a '
                'router mounted with prefix="/stripe"'
            )
        self.app = app
        self.kit = kit
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = scope["type"] == "http"
        if http and scope["method"] == "POST" and _route_path(scope) == self.path:
            await serve_webhook(self.kit, scope, receive, send)
            return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the app's router matches: ``path`` without the ``root_path`` prefix
    (Starlette's own rule, which it keeps private)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path
