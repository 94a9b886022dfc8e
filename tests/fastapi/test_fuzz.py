"""Whatever a client sends the shop routes, the answer is never a 5xx."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from shop_fuzz import EXAMPLES, requests

from stripekit import StripeKit

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a CI failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_no_input_makes_a_shop_route_fail(kit: StripeKit, make_app: Any) -> None:
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(kit)), base_url="http://shop.test"
    )
    statuses: set[int] = set()

    def check(request: dict[str, Any]) -> None:
        answer = loop.run_until_complete(
            client.request(
                request["method"],
                f"/stripe/{request['route']}",
                params=request["query"],
                headers={k: v.encode("latin-1") for k, v in request["headers"].items()},
                content=request["body"],
            )
        )
        statuses.add(answer.status_code)
        assert answer.status_code < 500, (answer.status_code, answer.text[:300])
        assert "Traceback" not in answer.text

    for case in EXAMPLES:
        check = example(request=case)(check)
    check = FUZZ(given(request=requests())(check))
    try:
        check()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(kit.aclose())
        loop.close()
    # The search reached the routes' real answers, not only their refusals.
    assert {200, 303, 400, 404, 422} <= statuses, statuses
