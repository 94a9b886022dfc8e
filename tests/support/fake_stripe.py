"""A tiny stand-in for Stripe's API, for tests that let stripe-python talk HTTP.

It runs on 127.0.0.1 (a free port) in a thread, records every request and
answers Stripe-shaped JSON for the few endpoints the core calls:

- ``GET /v1/prices`` with ``lookup_keys[n]`` (and ``active``): the seeded prices;
- ``POST /v1/checkout/sessions``: a ``checkout.session`` (same Idempotency-Key,
  same answer; same key with other params, Stripe's ``idempotency_error``);
- ``POST /v1/billing_portal/sessions``: a ``billing_portal.session``;
- ``GET`` of any path seeded in ``objects`` (e.g. ``/v1/invoices/in_1``): that object.

``fail_next()`` makes the next request answer Stripe's error JSON. It is not
the project's emulator: no state beyond this, no webhooks.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

SECRET_KEY = "sk_test_fake_51AbCdEf"

# stripe-python 16.1's async client (HTTPXClient) posts its form body with httpx's
# `data=`, which httpx 0.28 deprecates. With warnings as errors, httpx raises the
# DeprecationWarning inside stripe's request, which stripe reports as a network
# error (APIConnectionError) and retries. Async tests that POST ignore exactly it.
ignore_httpx_data_warning = pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it; ``params`` keeps Stripe's nested form keys."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-cased names

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class FakeStripe:
    """Use as ``with FakeStripe() as server:``; give ``server.url`` as Settings(api_base=...)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.prices: list[dict[str, Any]] = []
        self.objects: dict[str, dict[str, Any]] = {}
        self._failures: list[tuple[int, dict[str, Any]]] = []
        self._replies: dict[str, tuple[dict[str, str], int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        # A short poll keeps shutdown (every test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # -- seeding and inspection --------------------------------------------------------

    def add_price(
        self,
        lookup_key: str,
        *,
        unit_amount: int = 1500,
        currency: str = "usd",
        interval: str | None = None,
        interval_count: int = 1,
        active: bool = True,
        price_id: str | None = None,
    ) -> dict[str, Any]:
        """Seed a price; returns it (its ``id`` is what a lookup should resolve to)."""
        recurring = (
            None
            if interval is None
            else {
                "interval": interval,
                "interval_count": interval_count,
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
        )
        price = {
            "id": price_id or f"price_fake{next(self._ids):04d}",
            "object": "price",
            "active": active,
            "billing_scheme": "per_unit",
            "created": 1_700_000_000,
            "currency": currency,
            "livemode": False,
            "lookup_key": lookup_key,
            "metadata": {},
            "nickname": None,
            "product": "prod_fake",
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "type": "one_time" if interval is None else "recurring",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
        self.prices.append(price)
        return price

    def fail_next(
        self,
        message: str = "No such customer: 'cus_missing'",
        *,
        code: str | None = "resource_missing",
        status: int = 400,
        error_type: str = "invalid_request_error",
    ) -> None:
        """The next request gets Stripe's error JSON instead of an answer."""
        error: dict[str, Any] = {"type": error_type, "message": message}
        if code is not None:
            error["code"] = code
        self._failures.append((status, {"error": error}))

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    # -- answering ---------------------------------------------------------------------

    def _answer(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if not request.headers.get("authorization", "").startswith("Bearer sk_test_"):
            return 401, _error("authentication_error", "Invalid API Key provided")
        with self._lock:
            self.requests.append(request)
            if self._failures:
                return self._failures.pop(0)
        route = (request.method, request.path)
        if route == ("GET", "/v1/prices"):
            return 200, self._list_prices(request.params)
        if route == ("POST", "/v1/checkout/sessions"):
            return self._idempotent(request, self._checkout_session)
        if route == ("POST", "/v1/billing_portal/sessions"):
            return self._idempotent(request, self._portal_session)
        if request.method == "GET" and request.path in self.objects:
            return 200, self.objects[request.path]
        return 404, _error(
            "invalid_request_error", f"Unrecognized request URL ({route[0]}: {route[1]})"
        )

    def _idempotent(self, request: Recorded, make: Any) -> tuple[int, dict[str, Any]]:
        key = request.idempotency_key
        with self._lock:
            if key is not None and key in self._replies:
                params, status, body = self._replies[key]
                if params != request.params:
                    return 400, _error(
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    )
                return status, body
            body = make(request.params)
            if key is not None:
                self._replies[key] = (request.params, 200, body)
            return 200, body

    def _list_prices(self, params: dict[str, str]) -> dict[str, Any]:
        keys = {v for k, v in params.items() if k.startswith("lookup_keys[")}
        only_active = params.get("active") == "true"
        data = [
            p
            for p in self.prices
            if (not keys or p["lookup_key"] in keys) and (p["active"] or not only_active)
        ]
        limit = int(params.get("limit", "10"))
        return {
            "object": "list",
            "data": data[:limit],
            "has_more": len(data) > limit,
            "url": "/v1/prices",
        }

    def _checkout_session(self, params: dict[str, str]) -> dict[str, Any]:
        number = next(self._ids)
        session_id = f"cs_test_fake{number:04d}"
        items = []
        for i in itertools.count():
            if f"line_items[{i}][price]" not in params:
                break
            items.append(
                {
                    "id": f"li_fake{number:04d}_{i}",
                    "object": "item",
                    "price": {"id": params[f"line_items[{i}][price]"], "object": "price"},
                    "quantity": int(params.get(f"line_items[{i}][quantity]", "1")),
                }
            )
        return {
            "id": session_id,
            "object": "checkout.session",
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "line_items": {"object": "list", "data": items, "has_more": False},
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": _nested(params, "metadata"),
            "mode": params.get("mode"),
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        }

    def _portal_session(self, params: dict[str, str]) -> dict[str, Any]:
        number = next(self._ids)
        return {
            "id": f"bps_fake{number:04d}",
            "object": "billing_portal.session",
            "customer": params.get("customer"),
            "livemode": False,
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.test/p/session/test_fake{number:04d}",
        }


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "message": message}}


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix)}


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._handle("GET", urlsplit(self.path).query)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._handle("POST", self.rfile.read(length).decode())

        def _handle(self, method: str, form: str) -> None:
            request = Recorded(
                method=method,
                path=urlsplit(self.path).path,
                params=dict(parse_qsl(form, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            status, body = fake._answer(request)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", f"req_fake{len(fake.requests):04d}")
            # No keep-alive: a test's event loop closes after it, and a pooled
            # httpx connection left open on it would warn (ResourceWarning).
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest's output clean

    return Handler
