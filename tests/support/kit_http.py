"""A kit's webhook route on a plain HTTP server in a thread, for the emulator to deliver to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stripekit import StripeKit


class _Webhook(BaseHTTPRequestHandler):
    kit: StripeKit

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        result = self.kit.handle_webhook(body, dict(self.headers))
        self.send_response(result.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving_webhooks(kit: StripeKit) -> Iterator[str]:
    """Serve ``kit.handle_webhook`` on a free port while the block runs; yields its URL."""
    handler = type("Handler", (_Webhook,), {"kit": kit})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook"
    finally:
        server.shutdown()
        server.server_close()
