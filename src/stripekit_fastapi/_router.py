"""``stripekit_router`` (FastAPI) and ``stripekit_routes`` (Starlette): every shop route."""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse as _Html
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stripekit import StripeKit
from stripekit.billing._account import ACCOUNT_ACTIONS
from stripekit.shop._pages import Pages
from stripekit.shop._views import Buyer

from ._handlers import ROUTE_NAMES, CsrfInput, PageContext, Shop
from ._models import (
    ACTION_BODIES,
    AccountOut,
    CheckoutBody,
    CheckoutSessionOut,
    ClientSecretOut,
    ConfigOut,
    ErrorOut,
    HealthOut,
    PortalOut,
    ProductOut,
    WebhookOut,
)
from ._webhook import WebhookEndpoint

__all__ = ["stripekit_router", "stripekit_routes"]

BuyerDependency = Callable[..., Buyer | Awaitable[Buyer | None] | None]
"""A FastAPI dependency giving the current buyer, e.g. from the session's user."""

BuyerLoader = Callable[[Request], Buyer | Awaitable[Buyer | None] | None]
"""For Starlette: the current buyer from the request."""

AccountDependency = Callable[..., str | Awaitable[str | None] | None]
"""A FastAPI dependency giving the connected account (Connect, ``acct_...``) the request is
for, e.g. from the storefront's host; None for the platform's own."""

AccountLoader = Callable[[Request], str | Awaitable[str | None] | None]
"""For Starlette: the request's connected account (``acct_...``), or None for the platform."""


def _anonymous() -> Buyer | None:
    return None


def _platform() -> str | None:
    return None


def _source(where: str, resolver: Callable[..., object] | None) -> str:
    """How errors name the app's resolver: ``stripekit_router(connected_account=shop_of)``."""
    name = getattr(resolver, "__qualname__", None) or repr(resolver)
    return f"{where}(connected_account={name})"


class _RequestRoute(APIRoute):
    """An APIRoute whose endpoint takes the Request and returns the Response itself.

    It is documented in the OpenAPI schema like any route, but FastAPI solves no
    parameters and validates nothing on each call (FastAPI's documented hook for
    this: ``get_route_handler``). For the webhook route, which reads its raw body
    itself and is the one route under load, that is a fifth of its time.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return handler


def _pages(kit: StripeKit, templates: Sequence[str | os.PathLike[str]], shop_name: str) -> Pages:
    return Pages(templates, shop_name=shop_name, mode=kit.settings.mode)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


_ACTION_DOCS = {
    "cancel": "Cancel a subscription: at the end of its period, or now (at_period_end=false)",
    "resume": "Resume a subscription: undo its scheduled cancel",
    "change-plan": "Change a subscription's plan: bills what the quoted preview said",
    "preview-change": "Preview a plan change: what it bills, and the quote that confirms it",
    "retry": "Retry a failed renewal: pay the open invoice with the card on file",
}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    content = {"application/json": {"schema": schema},
               "application/x-www-form-urlencoded": {"schema": schema}}  # fmt: skip
    return {"requestBody": {"required": True, "content": content}}


def stripekit_router(
    kit: StripeKit,
    *,
    buyer: BuyerDependency | None = None,
    templates: Sequence[str | os.PathLike[str]] = (),
    shop_name: str = "Shop",
    csrf_input: CsrfInput | None = None,
    page_context: PageContext | None = None,
    connected_account: AccountDependency | None = None,
) -> APIRouter:
    """Every shop route for a FastAPI app.

    Args:
        kit: the app's StripeKit.
        buyer: a dependency returning the current :class:`~stripekit.Buyer` (or None
            for an anonymous checkout); it may take FastAPI dependencies itself.
        templates: the app's template directories, searched before the package's
            (a ``stripekit/pricing.html`` there replaces the shipped one).
        shop_name: shown in the pages' header and titles.
        csrf_input: ``csrf_input(request)`` gives the hidden field of the app's own
            CSRF token library, put in every shop form (the cross-site check needs
            no token; this is for apps that want one too).
        page_context: ``page_context(request)`` gives more variables for every shop
            page's template (the signed-in user, for a header the app overrides).
        connected_account: Connect: a dependency returning the connected account
            (``acct_...``) the request is for, or None for the platform's own; the
            app decides (from the storefront's host or path, say), never the browser.
            Checkout, the in-page payments, the success and return pages, the portal
            and the account page then act in that account. A value that is neither
            is a configuration error (500), never the platform's account instead.

    Example:
        >>> app.include_router(stripekit_router(kit), prefix="/stripe")  # doctest: +SKIP
    """
    shop = Shop(
        kit, _pages(kit, templates, shop_name), csrf_input, page_context,
        account_source=_source("stripekit_router", connected_account),
    )  # fmt: skip
    current = Depends(buyer or _anonymous)
    # FastAPI calls a dependency once per request, however many parameters use it.
    here = Depends(connected_account or _platform)
    router = APIRouter(tags=["stripe"])

    async def checkout(
        request: Request, who: Buyer | None = current, where: str | None = here
    ) -> Response:
        """Create a Checkout Session for a product (JSON body or HTML form post).

        JSON clients get ``{id, url}``; a form post gets a 303 to Stripe's page.
        """
        return await shop.checkout(request, who, where)

    async def portal(
        request: Request, who: Buyer | None = current, where: str | None = here
    ) -> Response:
        """Send the current customer to the billing portal (303, or ``{url}`` for JSON)."""
        return await shop.portal(request, who, where)

    async def success(
        request: Request, session_id: str | None = None, who: Buyer | None = current,
        where: str | None = here,
    ) -> Response:  # fmt: skip
        """The success page: whether the session is paid, read from Stripe; what was bought
        only for its buyer (the signed-in user it was made for, or the browser that
        started an anonymous checkout)."""
        return await shop.success(request, who, where)

    async def account(
        request: Request, who: Buyer | None = current, where: str | None = here
    ) -> Response:
        """The signed-in buyer's account: subscriptions, purchases with refunds, credits,
        and the forms to cancel, resume, change plan, retry a payment (JSON or the page)."""
        return await shop.account(request, who, where)

    async def embedded_page(request: Request, where: str | None = here) -> Response:
        """Embedded Checkout in the shop's page (?product=&price=&quantity=)."""
        return await shop.embedded_page(request, where)

    async def embedded_session(
        request: Request, who: Buyer | None = current, where: str | None = here
    ) -> Response:
        """Create an embedded Checkout Session for a product (JSON or form): its
        ``{id, client_secret}`` for ``stripe.initEmbeddedCheckout``."""
        return await shop.embedded_session(request, who, where)

    async def pay_page(request: Request, where: str | None = here) -> Response:
        """The Payment Element in the shop's page (?product=&price=&quantity=)."""
        return await shop.pay_page(request, where)

    async def pay_intent(
        request: Request, who: Buyer | None = current, where: str | None = here
    ) -> Response:
        """Create a PaymentIntent for a one-time product (JSON or form): its
        ``{id, client_secret}`` for ``stripe.elements``. The amount is the catalog's."""
        return await shop.pay_intent(request, who, where)

    async def checkout_return(
        request: Request, session_id: str | None = None, who: Buyer | None = current,
        where: str | None = here,
    ) -> Response:  # fmt: skip
        """Embedded Checkout's return page: the success page (reads the session from Stripe)."""
        return await shop.success(request, who, where)

    async def pay_return(
        request: Request, payment_intent: str | None = None, who: Buyer | None = current,
        where: str | None = here,
    ) -> Response:  # fmt: skip
        """The Payment Element's return page: the payment read from Stripe; details for its
        buyer only."""
        return await shop.pay_return(request, who, where)

    def account_action(name: str) -> Callable[..., Awaitable[Response]]:
        async def act(
            request: Request, who: Buyer | None = current, where: str | None = here
        ) -> Response:
            return await shop.account_action(request, who, name, where)

        act.__doc__ = _ACTION_DOCS[name]
        return act

    checkout_body = _body(CheckoutBody)
    # The webhook first: routers try routes in order, and it is the route under load.
    router.add_api_route(
        "/webhook", shop.webhook, methods=["POST"], name=ROUTE_NAMES["webhook"],
        summary="Stripe's webhook endpoint (raw body + Stripe-Signature)",
        route_class_override=_RequestRoute,
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}},
                       "parameters": [{"name": "Stripe-Signature", "in": "header",
                                       "required": True, "schema": {"type": "string"}}]},
        responses={
            200: {"model": WebhookOut, "description": "Processed, duplicate, unhandled or ignored"},
            400: {"model": WebhookOut, "description": "Bad signature or not a Stripe event"},
            409: {"model": WebhookOut, "description": "Another worker is processing it"},
            413: {"model": WebhookOut, "description": "Body over the size limit"},
            500: {"model": WebhookOut, "description": "A handler failed; Stripe retries"},
            503: {"model": WebhookOut, "description": "The event store is unavailable"},
        },
    )  # fmt: skip
    router.add_api_route(
        "/health", shop.health, methods=["GET"], name=ROUTE_NAMES["health"],
        summary="Whether the event store answers, and how many events wait (counts only)",
        route_class_override=_RequestRoute,
        responses={200: {"model": HealthOut}, 503: {"model": HealthOut,
                   "description": "The event store does not answer"}},
    )  # fmt: skip
    router.add_api_route(
        "/metrics", shop.metrics, methods=["GET"], name=ROUTE_NAMES["metrics"],
        summary="Prometheus metrics (Authorization: Bearer STRIPEKIT_METRICS_TOKEN)",
        route_class_override=_RequestRoute,
        responses={200: {"content": {"text/plain": {}}, "description": "The metrics"},
                   **_errors(401, 404, 501)},
    )  # fmt: skip
    router.add_api_route(
        "/checkout", checkout, methods=["POST"], name=ROUTE_NAMES["checkout"],
        summary="Start a checkout", openapi_extra=checkout_body,
        responses={200: {"model": CheckoutSessionOut}, 303: {"description": "To Stripe's page"},
                   **_errors(400, 404, 422, 502)},
    )  # fmt: skip
    router.add_api_route(
        "/checkout/embedded", embedded_page, methods=["GET"],
        name=ROUTE_NAMES["checkout_embedded"], response_class=_Html,
        summary="Embedded Checkout in the shop's page (?product=&price=&quantity=)",
        responses={404: {"description": "Unknown product"}, 422: {"description": "Quantity"}},
    )  # fmt: skip
    router.add_api_route(
        "/checkout/embedded", embedded_session, methods=["POST"],
        name=ROUTE_NAMES["checkout_embedded_session"],
        summary="Create an embedded Checkout Session", openapi_extra=checkout_body,
        responses={200: {"model": ClientSecretOut}, **_errors(400, 403, 404, 422, 502)},
    )  # fmt: skip
    router.add_api_route(
        "/checkout/return", checkout_return, methods=["GET"],
        name=ROUTE_NAMES["checkout_return"], response_class=_Html,
        summary="Embedded Checkout's return page (reads the session from Stripe)",
        responses={404: {"description": "Unknown session"}, 502: {"description": "Stripe error"}},
    )  # fmt: skip
    router.add_api_route(
        "/pay", pay_page, methods=["GET"], name=ROUTE_NAMES["pay"], response_class=_Html,
        summary="The Payment Element in the shop's page (?product=&price=&quantity=)",
        responses={400: {"description": "A subscription"}, 404: {"description": "Unknown product"}},
    )  # fmt: skip
    router.add_api_route(
        "/pay/intent", pay_intent, methods=["POST"], name=ROUTE_NAMES["pay_intent"],
        summary="Create a PaymentIntent (priced by the catalog)", openapi_extra=checkout_body,
        responses={200: {"model": ClientSecretOut}, **_errors(400, 403, 404, 422, 502)},
    )  # fmt: skip
    router.add_api_route(
        "/pay/return", pay_return, methods=["GET"], name=ROUTE_NAMES["pay_return"],
        response_class=_Html, summary="The Payment Element's return page (reads the payment)",
        responses={404: {"description": "Unknown payment"}, 502: {"description": "Stripe error"}},
    )  # fmt: skip
    router.add_api_route(
        "/success", success, methods=["GET"], name=ROUTE_NAMES["success"],
        summary="The success page (reads the session from Stripe)", response_class=_Html,
        responses={404: {"description": "Unknown session"}, 502: {"description": "Stripe error"}},
    )  # fmt: skip
    router.add_api_route(
        "/cancel", shop.cancel, methods=["GET"], name=ROUTE_NAMES["cancel"],
        summary="The cancel page", response_class=_Html,
    )  # fmt: skip
    router.add_api_route(
        "/pricing", shop.pricing_page, methods=["GET"], name=ROUTE_NAMES["pricing"],
        summary="The pricing page", response_class=_Html,
    )  # fmt: skip
    router.add_api_route(
        "/portal", portal, methods=["POST"], name=ROUTE_NAMES["portal"],
        summary="Open the billing portal",
        responses={200: {"model": PortalOut}, 303: {"description": "To the portal"},
                   **_errors(401, 502)},
    )  # fmt: skip
    router.add_api_route(
        "/account", account, methods=["GET"], name=ROUTE_NAMES["account"],
        summary="The buyer's account page (or its JSON)", response_class=_Html,
        responses={200: {"model": AccountOut}, **_errors(401, 404, 502)},
    )  # fmt: skip
    for action in ACCOUNT_ACTIONS:
        key = "account_" + action.replace("-", "_")
        router.add_api_route(
            f"/account/{action}", account_action(action), methods=["POST"],
            name=ROUTE_NAMES[key], summary=_ACTION_DOCS[action].split(":")[0],
            openapi_extra=_body(ACTION_BODIES[action]),
            responses={303: {"description": "Back to the account page"},
                       **_errors(400, 401, 403, 404, 502)},
        )  # fmt: skip
    router.add_api_route(
        "/products", shop.products, methods=["GET"], name=ROUTE_NAMES["products"],
        summary="The catalog", responses={200: {"model": list[ProductOut]}},
    )  # fmt: skip
    router.add_api_route(
        "/config", shop.config, methods=["GET"], name=ROUTE_NAMES["config"],
        summary="Public configuration (the publishable key)",
        responses={200: {"model": ConfigOut}},
    )  # fmt: skip
    return router


def stripekit_routes(
    kit: StripeKit,
    *,
    buyer: BuyerLoader | None = None,
    templates: Sequence[str | os.PathLike[str]] = (),
    shop_name: str = "Shop",
    csrf_input: CsrfInput | None = None,
    page_context: PageContext | None = None,
    connected_account: AccountLoader | None = None,
) -> list[Route]:
    """Every shop route for a plain Starlette app: ``Mount("/stripe", routes=...)``.

    ``buyer(request)`` (sync or async) gives the current Buyer, or None;
    ``connected_account(request)`` (sync or async) the connected account the request
    is for (``acct_...``), or None for the platform's own; the other arguments are
    ``stripekit_router``'s.

    Example:
        >>> routes = [Mount("/stripe", routes=stripekit_routes(kit))]  # doctest: +SKIP
    """
    shop = Shop(
        kit, _pages(kit, templates, shop_name), csrf_input, page_context,
        account_source=_source("stripekit_routes", connected_account),
    )  # fmt: skip

    async def who(request: Request) -> Buyer | None:
        if buyer is None:
            return None
        found = buyer(request)
        if inspect.isawaitable(found):
            found = await found
        return found

    async def here(request: Request) -> str | None:
        if connected_account is None:
            return None
        found = connected_account(request)
        if inspect.isawaitable(found):
            found = await found
        return found

    async def checkout(request: Request) -> Response:
        return await shop.checkout(request, await who(request), await here(request))

    async def portal(request: Request) -> Response:
        return await shop.portal(request, await who(request), await here(request))

    async def success(request: Request) -> Response:
        return await shop.success(request, await who(request), await here(request))

    async def account(request: Request) -> Response:
        return await shop.account(request, await who(request), await here(request))

    def account_action(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def act(request: Request) -> Response:
            return await shop.account_action(request, await who(request), name, await here(request))

        return act

    async def embedded_page(request: Request) -> Response:
        return await shop.embedded_page(request, await here(request))

    async def embedded_session(request: Request) -> Response:
        return await shop.embedded_session(request, await who(request), await here(request))

    async def pay_page(request: Request) -> Response:
        return await shop.pay_page(request, await here(request))

    async def pay_intent(request: Request) -> Response:
        return await shop.pay_intent(request, await who(request), await here(request))

    async def pay_return(request: Request) -> Response:
        return await shop.pay_return(request, await who(request), await here(request))

    return [
        # An ASGI app, not a function: Starlette builds no Request and wraps nothing.
        Route("/webhook", WebhookEndpoint(kit), methods=["POST"], name=ROUTE_NAMES["webhook"]),
        Route("/health", shop.health, methods=["GET"], name=ROUTE_NAMES["health"]),
        Route("/metrics", shop.metrics, methods=["GET"], name=ROUTE_NAMES["metrics"]),
        Route("/checkout", checkout, methods=["POST"], name=ROUTE_NAMES["checkout"]),
        Route("/success", success, methods=["GET"], name=ROUTE_NAMES["success"]),
        Route(
            "/checkout/embedded",
            embedded_page,
            methods=["GET"],
            name=ROUTE_NAMES["checkout_embedded"],
        ),
        Route(
            "/checkout/embedded",
            embedded_session,
            methods=["POST"],
            name=ROUTE_NAMES["checkout_embedded_session"],
        ),
        Route("/checkout/return", success, methods=["GET"], name=ROUTE_NAMES["checkout_return"]),
        Route("/pay", pay_page, methods=["GET"], name=ROUTE_NAMES["pay"]),
        Route("/pay/intent", pay_intent, methods=["POST"], name=ROUTE_NAMES["pay_intent"]),
        Route("/pay/return", pay_return, methods=["GET"], name=ROUTE_NAMES["pay_return"]),
        Route("/cancel", shop.cancel, methods=["GET"], name=ROUTE_NAMES["cancel"]),
        Route("/pricing", shop.pricing_page, methods=["GET"], name=ROUTE_NAMES["pricing"]),
        Route("/portal", portal, methods=["POST"], name=ROUTE_NAMES["portal"]),
        Route("/products", shop.products, methods=["GET"], name=ROUTE_NAMES["products"]),
        Route("/config", shop.config, methods=["GET"], name=ROUTE_NAMES["config"]),
        Route("/account", account, methods=["GET"], name=ROUTE_NAMES["account"]),
        *(
            Route(
                f"/account/{action}",
                account_action(action),
                methods=["POST"],
                name=ROUTE_NAMES["account_" + action.replace("-", "_")],
            )
            for action in ACCOUNT_ACTIONS
        ),
    ]
