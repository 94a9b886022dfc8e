"""Starting the demo: the emulator (or Stripe), the products synced, the shop served."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from stripekit import ConfigurationError, StripeKit, apply_sync, plan_sync, read_account
from stripekit._serving import serve_in_thread

from ._app import create_demo_app, demo_catalog, demo_handlers
from ._orders import OrderBook

__all__ = ["DemoShop", "run_demo", "running_demo"]

# Made-up test-mode values: the emulator takes any sk_test_ key, and signs its
# webhooks with whatever secret the shop verifies with.
DEMO_SECRET_KEY = "sk_test_stripekit_demo"  # noqa: S105
DEMO_PUBLISHABLE_KEY = "pk_test_stripekit_demo"
DEMO_WEBHOOK_SECRET = "whsec_stripekit_demo"  # noqa: S105


@dataclass(frozen=True)
class DemoShop:
    """A running demo: where the shop is, and where its Stripe is."""

    url: str
    stripe: str
    """The emulator's URL, or ``https://api.stripe.com`` with a real key."""
    kit: StripeKit
    orders: OrderBook
    data_dir: Path
    """Its databases, removed when the demo stops."""
    webhook_secret: str | None = None
    """The secret its webhooks are signed with on the emulator (None with Stripe's own)."""

    def send_command(
        self, program: str = "stripekit", event_type: str = "checkout.session.completed"
    ) -> str:
        """A ``stripekit webhooks send`` line that delivers a signed test event to the shop."""
        secret = f" --secret {self.webhook_secret}" if self.webhook_secret else ""
        return f"{program} webhooks send {event_type} --to {self.url}/stripe/webhook{secret}"


@contextmanager
def running_demo(
    host: str = "127.0.0.1", port: int = 8000, emulator_port: int = 12111
) -> Iterator[DemoShop]:
    """Run the demo in background threads for the ``with`` block.

    With STRIPE_SECRET_KEY set (and no STRIPE_API_BASE) it uses Stripe's test mode:
    STRIPE_WEBHOOK_SECRET must then be the secret `stripe listen` printed.
    """
    from stripekit.emulator import run_emulator

    data_dir = Path(tempfile.mkdtemp(prefix="stripekit-demo-"))
    kit_ref: list[StripeKit] = []
    shop_url = f"http://{host}:{port}"
    database_url = f"sqlite:///{data_dir / 'events.sqlite3'}"
    real_key = os.environ.get("STRIPE_SECRET_KEY")
    with ExitStack() as stack:
        # Runs last: the demo's databases go with it.
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        orders = OrderBook(data_dir / "orders.sqlite3")
        stack.callback(orders.close)
        # A handler that fails is printed here, with its event and its error.
        stack.enter_context(_printing_failures())
        catalog, webhooks = demo_catalog(), demo_handlers(orders, kit_ref)
        if real_key and not os.environ.get("STRIPE_API_BASE"):
            if not os.environ.get("STRIPE_WEBHOOK_SECRET"):
                raise ConfigurationError(
                    "with a real STRIPE_SECRET_KEY the demo needs Stripe's webhooks: run "
                    f"`stripe listen --forward-to {shop_url}/stripe/webhook` and set "
                    "STRIPE_WEBHOOK_SECRET to the whsec_... it prints"
                )
            kit = StripeKit(  # keys from the environment
                catalog=catalog, webhooks=webhooks, base_url=shop_url, database_url=database_url
            )
            stripe_url = "https://api.stripe.com"
        else:
            emulator = stack.enter_context(
                run_emulator(host, emulator_port, retry_delays=(1, 2, 4, 8, 16))
            )
            emulator.add_webhook_endpoint(f"{shop_url}/stripe/webhook", secret=DEMO_WEBHOOK_SECRET)
            kit = StripeKit(
                secret_key=DEMO_SECRET_KEY,
                publishable_key=DEMO_PUBLISHABLE_KEY,
                webhook_secret=DEMO_WEBHOOK_SECRET,
                api_base=emulator.api_base,
                catalog=catalog,
                webhooks=webhooks,
                base_url=shop_url,
                database_url=database_url,
            )
            stripe_url = emulator.url
        kit_ref.append(kit)
        # The demo's products, in Stripe (or the emulator), matched by lookup key.
        apply_sync(kit.client, plan_sync(kit.catalog, read_account(kit.client, kit.catalog)))
        app = create_demo_app(kit, orders)
        url = stack.enter_context(serve_in_thread(app, host, port, what="the demo shop"))
        secret = DEMO_WEBHOOK_SECRET if stripe_url != "https://api.stripe.com" else None
        yield DemoShop(url, stripe_url, kit, orders, data_dir, secret)


class _FailurePrinter(logging.Handler):
    """One line per failed handler (or unusable store): the event, the handler, the error."""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        print(f"✗ {record.getMessage()}{detail}", flush=True)


@contextmanager
def _printing_failures() -> Iterator[None]:
    logger = logging.getLogger("stripekit.webhooks")
    printer = _FailurePrinter(logging.ERROR)
    logger.addHandler(printer)
    try:
        yield
    finally:
        logger.removeHandler(printer)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    emulator_port: int = 12111,
    program: str = "stripekit",
) -> None:
    """Run the demo until Ctrl-C (or SIGTERM), printing where to go and what happens.

    ``program`` is how the user started stripekit (``.venv/bin/stripekit``), for the
    command line it prints.
    """
    # A stop from a process manager cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, _stop)
    with running_demo(host, port, emulator_port) as shop:
        print(f"\n  stripekit demo shop: {shop.url}/\n", flush=True)
        print(f"  Stripe: {shop.stripe}", flush=True)
        if shop.webhook_secret:
            print(
                f"  Webhook secret: {shop.webhook_secret} (the emulator signs with it)", flush=True
            )
        print("  Pay with 4242 4242 4242 4242 (any expiry, any CVC);", flush=True)
        print(
            "  4000 0000 0000 0002 is declined. Orders appear at", f"{shop.url}/orders", flush=True
        )
        print(f"  A signed test event, from another terminal:\n    {shop.send_command(program)}")
        print("  Ctrl-C to stop.\n", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\n  stopped", flush=True)
