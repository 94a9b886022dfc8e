"""WebhookMiddleware: deliveries answered before the app's routing, the rest untouched.

The shop's route tests (``test_webhook_and_openapi``, ``test_routes``...) also run
on an app with the middleware (conftest's ``fastapi+WebhookMiddleware``): it
answers as the route does, and every other route works as before. Here: that it
is the middleware that answers, where it sits among the app's own middleware,
and what it refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi_shop import asgi_client
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from stripekit import Event, MemoryEventStore, StripeKit, WebhookRegistry
from stripekit.testing import signed_event
from stripekit_fastapi import WebhookMiddleware, stripekit_router, stripekit_routes

SECRET = "whsec_middleware"


@pytest.fixture
def handled() -> list[str]:
    return []


@pytest.fixture
def kit(handled: list[str]) -> StripeKit:
    return make_kit(handled)


def make_kit(handled: list[str]) -> StripeKit:
    webhooks = WebhookRegistry()

    @webhooks.on("checkout.session.completed")
    async def fulfil(event: Event) -> None:
        handled.append(event.object["id"])

    return StripeKit(
        secret_key="sk_test_middleware",
        webhook_secret=SECRET,
        webhooks=webhooks,
        store=MemoryEventStore(),
    )


def delivery(session_id: str = "cs_test_lane") -> tuple[bytes, dict[str, str]]:
    return signed_event(
        "checkout.session.completed", {"id": session_id, "object": "checkout.session"},
        secret=SECRET,
    )  # fmt: skip


class Seen:
    """An app middleware that notes the paths it sees."""

    def __init__(self, app: ASGIApp, *, paths: list[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


async def test_it_answers_without_the_route_mounted(kit: StripeKit, handled: list[str]) -> None:
    app = FastAPI()  # no stripekit_router: only the middleware can answer
    app.add_middleware(WebhookMiddleware, kit=kit)
    body, headers = delivery()
    async with asgi_client(app) as client:
        first = await client.post("/stripe/webhook", content=body, headers=headers)
        again = await client.post("/stripe/webhook", content=body, headers=headers)
        forged = await client.post(
            "/stripe/webhook", content=body, headers={"Stripe-Signature": "t=1,v1=00"}
        )
    assert (first.status_code, first.json()["status"]) == (200, "processed")
    assert first.headers["content-type"] == "application/json"
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert forged.status_code == 400
    assert handled == ["cs_test_lane"]
    assert [e.id for e in kit.store.list()] == [first.json()["event"]]


async def test_its_answers_are_the_routes_byte_for_byte(kit: StripeKit) -> None:
    routed = FastAPI()
    routed.include_router(stripekit_router(kit), prefix="/stripe")
    laned = FastAPI()
    laned.add_middleware(WebhookMiddleware, kit=make_kit([]))  # a store of its own
    first, _ = delivery("cs_test_first")
    cases = [
        delivery("cs_test_new"),  # processed, then duplicate below
        signed_event("product.created", secret=SECRET),  # unhandled
        (first, {"Stripe-Signature": "t=1,v1=00"}),  # forged
        (b"{" + b" " * kit.settings.webhook_max_bytes + b"}", {}),  # too big
    ]
    answers: dict[str, list[tuple[int, bytes, str]]] = {}
    for name, app in (("route", routed), ("middleware", laned)):
        async with asgi_client(app) as client:
            got = []
            for body, headers in [*cases, cases[0]]:
                answer = await client.post("/stripe/webhook", content=body, headers=headers)
                got.append((answer.status_code, answer.content, answer.headers["content-type"]))
            answers[name] = got
    assert answers["middleware"] == answers["route"]
    assert [status for status, _, _ in answers["route"]] == [200, 200, 400, 413, 200]


async def test_app_middleware_added_before_it_does_not_see_deliveries(kit: StripeKit) -> None:
    before: list[str] = []
    after: list[str] = []
    app = FastAPI()
    app.include_router(stripekit_router(kit), prefix="/stripe")
    app.add_middleware(Seen, paths=before)
    app.add_middleware(WebhookMiddleware, kit=kit)
    app.add_middleware(Seen, paths=after)  # added last: runs first
    body, headers = delivery()
    async with asgi_client(app) as client:
        assert (await client.post("/stripe/webhook", content=body, headers=headers)).is_success
        assert (await client.get("/stripe/config")).is_success
    assert before == ["GET /stripe/config"]
    assert after == ["POST /stripe/webhook", "GET /stripe/config"]


async def test_other_requests_reach_the_app_unchanged(kit: StripeKit) -> None:
    seen: list[str] = []
    app = FastAPI()
    app.include_router(stripekit_router(kit), prefix="/stripe")
    app.add_middleware(Seen, paths=seen)
    app.add_middleware(WebhookMiddleware, kit=kit)
    body, headers = delivery()
    async with asgi_client(app) as client:
        wrong_method = await client.get("/stripe/webhook")
        trailing = await client.post("/stripe/webhook/", content=body, headers=headers)
        elsewhere = await client.post("/other/webhook", content=body, headers=headers)
    assert wrong_method.status_code == 405  # the route's own answer
    assert trailing.status_code == 307  # FastAPI's redirect, not a delivery
    assert elsewhere.status_code == 404
    assert seen == ["GET /stripe/webhook", "POST /stripe/webhook/", "POST /other/webhook"]
    assert kit.store.list() == []


async def test_lifespan_and_websockets_pass_through(kit: StripeKit) -> None:
    scopes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope["type"])

    lane = WebhookMiddleware(app, kit=kit)
    for kind in ("lifespan", "websocket"):
        await lane({"type": kind, "path": "/stripe/webhook"}, _never, _never)
    assert scopes == ["lifespan", "websocket"]


async def test_the_path_is_matched_below_the_root_path(kit: StripeKit, handled: list[str]) -> None:
    app = FastAPI()  # the server strips it (uvicorn --root-path /api)
    app.add_middleware(WebhookMiddleware, kit=kit, path="/stripe/webhook")
    body, headers = delivery()
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        answer = await client.post("/api/stripe/webhook", content=body, headers=headers)
    assert answer.status_code == 200
    assert handled == ["cs_test_lane"]


async def test_router_dependencies_do_not_guard_it(kit: StripeKit) -> None:
    def members_only() -> None:
        raise HTTPException(status_code=403)

    app = FastAPI()
    app.include_router(
        stripekit_router(kit), prefix="/stripe", dependencies=[Depends(members_only)]
    )
    app.add_middleware(WebhookMiddleware, kit=kit)
    body, headers = delivery()
    async with asgi_client(app) as client:
        assert (await client.post("/stripe/webhook", content=body, headers=headers)).is_success
        assert (await client.get("/stripe/config")).status_code == 403


async def test_a_starlette_app_takes_it_too(kit: StripeKit, handled: list[str]) -> None:
    app = Starlette(routes=[Mount("/shop", routes=stripekit_routes(kit))])
    app.add_middleware(WebhookMiddleware, kit=kit, path="/shop/webhook")
    body, headers = delivery()
    async with asgi_client(app) as client:
        answer = await client.post("/shop/webhook", content=body, headers=headers)
    assert (answer.status_code, answer.json()["status"]) == (200, "processed")
    assert handled == ["cs_test_lane"]


async def test_a_client_gone_mid_body_is_not_recorded(kit: StripeKit) -> None:
    body, headers = delivery()
    messages = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    lane = WebhookMiddleware(_unreachable, kit=kit)
    scope = {
        "type": "http", "method": "POST", "path": "/stripe/webhook", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    with pytest.raises(ClientDisconnect):
        await lane(scope, receive, _never)
    assert kit.store.list() == []


def test_arguments_it_refuses(kit: StripeKit) -> None:
    with pytest.raises(TypeError, match="takes the app's StripeKit, not str"):
        WebhookMiddleware(_unreachable, kit="sk_test_x")  # type: ignore[arg-type]
    for path in ("stripe/webhook", " /stripe/webhook", "/stripe/webhook?x=1"):
        with pytest.raises(ValueError, match='starting with "/"'):
            WebhookMiddleware(_unreachable, kit=kit, path=path)


async def _never(*args: Any) -> Any:
    raise AssertionError("not expected to be called")


_unreachable: Callable[[Scope, Receive, Send], Awaitable[None]] = _never
