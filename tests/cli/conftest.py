"""Fixtures for the CLI tests: a runner, an app module with handlers, a store with history."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_harness import APP_MODULE, SECRET, Runner, deliver

from stripekit import StripeKit


@pytest.fixture
def cli() -> Runner:
    return Runner()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite3'}"


@pytest.fixture
def shop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    request: pytest.FixtureRequest,
) -> Any:
    """The user's app module, importable as ``shop_<test>:kit`` from the working directory."""
    name = f"shop_{abs(hash(request.node.nodeid)):x}"
    (tmp_path / f"{name}.py").write_text(
        APP_MODULE.replace("{secret}", SECRET).replace("{database_url}", database_url),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    yield module
    module.kit.close()  # what the app does when it stops: its store's connections
    sys.modules.pop(name, None)


@pytest.fixture
def history(shop: Any) -> Any:
    """Three recorded events: one processed, one failed, one unhandled."""
    assert deliver(shop.kit, "checkout.session.completed", "evt_paid") == 200
    assert deliver(shop.kit, "invoice.payment_failed", "evt_broken") == 500
    assert deliver(shop.kit, "customer.created", "evt_unhandled") == 200
    return shop


@pytest.fixture
def webhook_app(shop: Any) -> Iterator[str]:
    """The shop's webhook route, served over HTTP: its URL."""
    kit: StripeKit = shop.kit

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            result = kit.handle_webhook(body, dict(self.headers.items()))
            payload = json.dumps(result.body).encode()
            self.send_response(result.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
