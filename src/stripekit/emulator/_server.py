"""Serving the emulator: in a background thread (tests, the demo) or in the foreground (CLI)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._clock import advance_clock
from ._core import API_VERSION, Emulator
from ._delivery import Delivery

__all__ = ["DEFAULT_PORT", "RunningEmulator", "run_emulator", "serve"]

DEFAULT_PORT = 12111
"""The port ``stripekit emulator`` listens on (the Stripe CLI's stripe-mock uses it too)."""


class RunningEmulator:
    """An emulator being served: where it is, and the controls a test needs.

    Example:
        >>> with run_emulator() as emulator:  # doctest: +SKIP
        ...     client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})
    """

    def __init__(self, emulator: Emulator, url: str) -> None:
        self.emulator = emulator
        self.url = url
        """Where the emulator listens (``http://127.0.0.1:PORT``)."""

    @property
    def api_base(self) -> str:
        """What to give stripe-python (``base_addresses={"api": ...}``) or STRIPE_API_BASE."""
        return self.url

    def reset(self) -> None:
        """Forget everything: objects, events, endpoints, deliveries; real time again."""
        self.emulator.reset()

    def advance_clock(self, *, seconds: int = 0, days: int = 0) -> int:
        """Move the emulator's time on: what falls due happens. Returns the new now."""
        return advance_clock(self.emulator, seconds + days * 86400)

    def configure_dunning(
        self, *, retry_days: tuple[int, ...] | None = None, then: str | None = None
    ) -> None:
        """How failed subscription payments are retried and how they end (see Emulator)."""
        self.emulator.configure_dunning(retry_days=retry_days, then=then)

    def add_webhook_endpoint(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
        api_version: str | None = API_VERSION,
        connect: bool = False,
    ) -> dict[str, Any]:
        """Deliver events to ``url``, signed with ``secret`` (made up when None), labelled
        with ``api_version`` (None: the account's default, the emulator's own);
        ``connect``: the connected accounts' events instead of the platform's own."""
        return self.emulator.state.public(
            self.emulator.add_webhook_endpoint(
                url, secret=secret, events=events, api_version=api_version, connect=connect
            )
        )

    def create_account(self, **values: Any) -> str:
        """A connected account (Connect, test mode, enabled at once); its ``acct_`` id."""
        with self.emulator.state.locked(), self.emulator.state.acting_as(None):
            return str(self.emulator.state.new("account", type="standard", **values)["id"])

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt so far, oldest first."""
        return self.emulator.deliveries

    def wait_for_deliveries(self, timeout: float = 10.0) -> list[Delivery]:
        """Wait until every queued delivery (retries included) is done; the log."""
        if not self.emulator.delivery.wait_idle(timeout):
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s")
        return self.deliveries

    def events(self) -> list[dict[str, Any]]:
        """Every event so far (every account's), oldest first."""
        state = self.emulator.state
        with state.lock:
            # Every account's, the connected accounts' too (their events carry `account`).
            found = [o for o in state.objects.values() if o.get("object") == "event"]
            return [state.public(e) for e in sorted(found, key=lambda e: e["_seq"])]


@contextmanager
def run_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0),
) -> Iterator[RunningEmulator]:
    """Serve a fresh emulator in a background thread for the ``with`` block.

    ``port=0`` picks a free port. Webhook retries back off quickly by default
    (tests); ``stripekit emulator`` uses Stripe-like delays.
    """
    from stripekit._serving import free_port, serve_in_thread

    from ._app import create_app

    port = port or free_port(host)
    url = f"http://{host}:{port}"
    emulator = Emulator(base_url=url, retry_delays=retry_delays)
    try:
        with serve_in_thread(create_app(emulator), host, port, what="the emulator"):
            yield RunningEmulator(emulator, url)
    finally:
        emulator.delivery.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    forward_to: list[str] | None = None,
    webhook_secret: str | None = None,
    public_url: str | None = None,
    on_ready: Callable[[RunningEmulator], None] | None = None,
) -> None:
    """Serve the emulator in the foreground until interrupted (``stripekit emulator``).

    ``on_ready`` runs (in a thread) once the emulator answers, e.g. to create the
    products of a products file; if it raises, the emulator stops and the error
    is raised here.
    """
    import uvicorn

    from ._app import create_app

    url = public_url or f"http://{host}:{port}"
    emulator = Emulator(base_url=url)
    for target in forward_to or []:
        emulator.add_webhook_endpoint(target, secret=webhook_secret)
    config = uvicorn.Config(
        create_app(emulator), host=host, port=port, log_level="info", lifespan="off"
    )
    server = uvicorn.Server(config)
    failures: list[BaseException] = []
    if on_ready is not None:
        running = RunningEmulator(emulator, f"http://{host}:{port}")
        threading.Thread(
            target=_when_started,
            args=(server, lambda: on_ready(running), failures),
            name="stripekit-emulator-ready",
            daemon=True,
        ).start()
    try:
        server.run()
    finally:
        emulator.delivery.stop()
    if failures:
        raise failures[0]


def _when_started(server: Any, callback: Callable[[], None], failures: list[BaseException]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.01)
    try:
        callback()
    except BaseException as exc:  # handed to the main thread, which raises it
        failures.append(exc)
        server.should_exit = True
