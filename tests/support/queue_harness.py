"""What the queue adapter tests (tests/queues) share: a worker in a process of its own (to
kill -9), the deliveries, and the handler's tables (tests/support/queue_app.py) read back."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from stripekit import EventStatus, StripeKit
from stripekit.testing import signed_event

HERE = Path(__file__).resolve().parent
"""Where queue_app.py is: the workers' PYTHONPATH and working directory."""
SECRET = "whsec_queues"
DEADLINE = 30.0  # seconds any wait of these tests may last


class Worker:
    """A queue worker in a session of its own; ``kill()`` is a SIGKILL of all its processes."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=HERE,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL, no shutdown: what an OOM kill or a lost machine leaves."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def worker_env(adapter: str, broker: str, database: str, queue: str) -> dict[str, str]:
    return {
        "QUEUE_TEST_ADAPTER": adapter,
        "QUEUE_TEST_BROKER": broker,
        "QUEUE_TEST_DATABASE": database,
        "QUEUE_TEST_QUEUE": queue,
    }


def deliver(kit: StripeKit, event_id: str, *, fail_first: bool = False) -> str:
    """One signed delivery through the kit's webhook processor; its outcome."""
    obj: dict[str, Any] = {"id": f"in_{event_id}", "object": "invoice", "fail_first": fail_first}
    body, headers = signed_event("invoice.paid", obj, secret=SECRET, id=event_id)
    result = kit.handle_webhook(body, headers)
    assert result.status == 200, result
    return result.outcome


def counts(database: str, table: str) -> Counter[str]:
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT event_id, count(*) FROM {table} GROUP BY event_id"))
            return Counter({event_id: number for event_id, number in rows})
    finally:
        engine.dispose()


def wait_until(
    condition: Callable[[], bool],
    what: str,
    log: Path | None = None,
    state: Callable[[], object] | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail after DEADLINE seconds, with the worker's log
    and ``state()`` (what the test was waiting on)."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            found = f" (found {state()})" if state is not None else ""
            pytest.fail(f"not within {DEADLINE:g} s: {what}{found}\n{tail}")
        time.sleep(0.05)


def statuses(kit: StripeKit) -> Counter[EventStatus]:
    return Counter(row.status for row in kit.store.list(limit=10_000))


def closed_port_url(scheme: str) -> str:
    """A broker URL on a port nothing listens on: the broker is down."""
    from stripekit._serving import free_port

    return f"{scheme}://guest:guest@127.0.0.1:{free_port()}/" + ("/" if scheme == "amqp" else "0")
