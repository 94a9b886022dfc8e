"""Signed webhook delivery, with retries and back-off, and a log of every attempt.

One worker thread posts events in the order they happened. A delivery that
gets no 2xx (or no answer within the timeout) is tried again after the next
delay of ``retry_delays``; after the last one it is given up, as Stripe gives
up after three days. Each attempt is signed afresh, with the time of sending.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from stripekit.webhooks._signature import compute_signature

__all__ = ["Delivery", "WebhookDelivery"]


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one event to one endpoint."""

    event_id: str
    event_type: str
    url: str
    attempt: int
    status: int | None
    """The HTTP status answered, or None when there was no answer."""
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        """Whether the endpoint acknowledged the event (a 2xx)."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(order=True)
class _Job:
    due: float
    sequence: int
    event: dict[str, Any] = None  # type: ignore[assignment]
    url: str = ""
    secret: str = ""
    attempt: int = 1


class WebhookDelivery:
    """Posts events to endpoints from a background thread (started on first use)."""

    def __init__(
        self, *, retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16), timeout: float = 10.0
    ) -> None:
        self.retry_delays = retry_delays
        self.timeout = timeout
        self._queue: list[_Job] = []
        self._log: list[Delivery] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._generation = 0

    def send(self, event: dict[str, Any], url: str, secret: str) -> None:
        """Queue an event for an endpoint; it is posted as soon as the worker gets to it."""
        with self._condition:
            heapq.heappush(
                self._queue, _Job(time.monotonic(), next(self._sequence), event, url, secret)
            )
            self._ensure_worker()
            self._condition.notify()

    def log(self) -> list[Delivery]:
        """Every attempt so far, oldest first."""
        with self._condition:
            return list(self._log)

    def pending(self) -> int:
        """Deliveries queued or waiting for a retry."""
        with self._condition:
            return len(self._queue)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued (retries included); False if it timed out."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(min(remaining, 0.05))
        return True

    def reset(self) -> None:
        """Drop queued deliveries and the log."""
        with self._condition:
            self._queue.clear()
            self._log.clear()
            self._generation += 1

    def stop(self) -> None:
        """Stop the worker (queued deliveries are dropped)."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the worker --------------------------------------------------------------------------

    _busy = False

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="stripekit-emulator-webhooks", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=self.timeout) as client:
            while True:
                with self._condition:
                    job = self._next_job()
                    if job is None:
                        return
                    generation = self._generation
                    self._busy = True
                try:
                    delivery = self._post(client, job)
                finally:
                    with self._condition:
                        self._busy = False
                        if generation == self._generation:
                            self._log.append(delivery)
                            if not delivery.ok and job.attempt <= len(self.retry_delays):
                                delay = self.retry_delays[job.attempt - 1]
                                job.due = time.monotonic() + delay
                                job.attempt += 1
                                job.sequence = next(self._sequence)
                                heapq.heappush(self._queue, job)
                        self._condition.notify_all()

    def _next_job(self) -> _Job | None:
        while not self._stopping:
            if self._queue:
                wait = self._queue[0].due - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._queue)
                self._condition.wait(wait)
            else:
                self._condition.wait(0.5)
        return None

    def _post(self, client: Any, job: _Job) -> Delivery:
        import httpx

        body = json.dumps(job.event, indent=2).encode()
        timestamp = int(time.time())
        signature = compute_signature(job.secret.encode(), timestamp, body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        status: int | None = None
        error: str | None = None
        try:
            status = client.post(job.url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return Delivery(
            job.event["id"], job.event["type"], job.url, job.attempt, status, error, time.time()
        )
