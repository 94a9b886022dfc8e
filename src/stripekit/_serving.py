"""Serving an ASGI app with uvicorn in a background thread (the emulator, the demo)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["free_port", "serve_in_thread"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: Any, host: str, port: int, *, what: str = "the app") -> Iterator[str]:
    """Serve ``app`` on ``host:port`` until the block ends; yields its URL.

    Raises RuntimeError, naming ``what``, if it cannot start (e.g. the port is taken).
    """
    import uvicorn

    # asyncio's own loop even where uvloop is installed: uvloop refuses to close a loop
    # that still holds open sockets (an async HTTP client's pooled connections), and
    # this server stops with the block, not with the app's own shutdown.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"stripekit {what}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} could not start on {host}:{port} (is the port in use?)")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
