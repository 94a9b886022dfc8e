"""A webhook server in a process of its own (uvicorn), to load, kill -9 and restart.

The app it serves is tests/reliability/reliability_app.py, unless told another (the
queue tests serve docs/scale.md's deferred kit, tests/support/queue_app.py, and the
Django project's ASGI app).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from stripekit._serving import free_port

APP_DIR = Path(__file__).resolve().parents[1] / "reliability"
SECRET = "whsec_reliability"
STARTUP = 60  # seconds a server may take to start on a loaded machine


class Server:
    """``uvicorn reliability_app:create_app`` on a free port; ``kill()`` is a SIGKILL.

    Args:
        database_url: the reliability app's database (RELIABILITY_DATABASE_URL).
        log: the file the server's output goes to.
        app: the app factory uvicorn serves (``module:function``).
        path: the server's PYTHONPATH, first to last.
        env: more environment variables for it.
        cwd: its working directory (None: the test's).
    """

    def __init__(
        self,
        database_url: str,
        log: Path,
        *,
        app: str = "reliability_app:create_app",
        path: Sequence[str | Path] = (APP_DIR,),
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/stripe/webhook"
        self.app = app
        self.path = path
        self.env = dict(env or {})
        self.cwd = cwd
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {
            **os.environ,
            "RELIABILITY_DATABASE_URL": self.database_url,
            "RELIABILITY_SECRET": SECRET,
            **self.env,
            "PYTHONPATH": os.pathsep.join(str(entry) for entry in self.path),
        }
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", self.app, "--factory",
                    "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
                    "--loop", "asyncio", "--http", "h11",
                ],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd,
            )  # fmt: skip
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start: {self._log.read_text()[-2000:]}")
            try:
                httpx.post(self.url, content=b"{}", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no cleanup; what an OOM kill or a power cut leaves."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def count_rows(database_url: str, table: str) -> dict[str, int]:
    """event id -> how many rows ``table`` has for it."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT event_id, count(*) FROM {table} GROUP BY event_id"))
        found: dict[str, Any] = {event_id: number for event_id, number in rows}
    engine.dispose()
    return found


def signed_delivery(
    event_id: str, event_type: str = "invoice.paid"
) -> tuple[bytes, dict[str, str]]:
    """A realistic signed delivery (about 1 KB) of a new event."""
    import json

    from stripekit.testing import sign_payload

    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": 1_700_000_000,
            "livemode": False,
            "api_version": "2025-01-27.acacia",
            "data": {"object": {"id": f"in_{event_id}", "object": "invoice", "lines": "x" * 800}},
        }
    ).encode()
    return body, {
        "Stripe-Signature": sign_payload(body, SECRET),
        "Content-Type": "application/json",
    }


def raw_request(body: bytes, headers: dict[str, str], path: str = "/stripe/webhook") -> bytes:
    """One HTTP/1.1 request, head and body in one write (as a load generator should send it:
    httpx writes them apart, and Nagle's algorithm then stalls every request on a delayed ACK)."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def send_all(
    port: int,
    requests: list[tuple[str, bytes]],
    connections: int,
    answers: list[tuple[str, int | None]] | None = None,
) -> list[tuple[str, int | None]]:
    """Send ``(key, request)`` pairs over ``connections`` keep-alive connections.

    Returns ``(key, status)`` for each (appended to ``answers`` as they come, for a
    caller watching the progress); the status is None when the connection broke
    before the answer (the server was killed), and the connection's later requests
    are not sent.
    """
    queue = list(reversed(requests))
    answers = [] if answers is None else answers

    async def worker() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            while queue:
                key, request = queue.pop()
                try:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    await _read_body(reader, head)
                except (OSError, asyncio.IncompleteReadError):
                    answers.append((key, None))
                    return
                answers.append((key, int(head.split(b" ", 2)[1])))
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return answers


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    """The body of the answer whose head is ``head``: Content-Length bytes, or chunks (an
    app that sets no length, such as Django's without CommonMiddleware, under uvicorn)."""
    fields = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    if fields.get(b"transfer-encoding", b"").strip() == b"chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append((await reader.readexactly(size + 2))[:-2])
        await reader.readuntil(b"\r\n")  # the empty trailer
        return b"".join(chunks)
    return await reader.readexactly(int(fields.get(b"content-length", b"0")))
