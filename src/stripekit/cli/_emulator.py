"""``stripekit emulator``: run the local Stripe emulator in the foreground."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from stripekit._extras import needs_extra

from ._common import CLIError, console

if TYPE_CHECKING:
    from stripekit import Catalog
    from stripekit.emulator import RunningEmulator

__all__ = ["emulator"]


def emulator(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(12111, "--port", help="Port to listen on."),
    forward_to: list[str] = typer.Option(
        [],
        "--forward-to",
        help="Deliver every event to this webhook URL (repeat for several).",
    ),
    webhook_secret: str | None = typer.Option(
        None,
        "--webhook-secret",
        help="Sign --forward-to deliveries with this whsec_... (your app's STRIPE_WEBHOOK_SECRET).",
    ),
    seed: Path | None = typer.Option(
        None,
        "--seed",
        help="Create this products file's products and prices (by lookup key) at start.",
    ),
) -> None:
    """Run a local stand-in for Stripe's API: checkout, portal, signed webhooks, offline.

    Point your app at it with STRIPE_API_BASE=http://127.0.0.1:12111 and any
    sk_test_ key. Pay with 4242 4242 4242 4242; 4000 0000 0000 0002 is declined.
    """
    with needs_extra("stripekit emulator"):
        import uvicorn  # noqa: F401 - it serves the emulator: checked before anything starts

        from stripekit.emulator import serve

    if webhook_secret is not None and not webhook_secret.startswith("whsec_"):
        raise CLIError("--webhook-secret must be a signing secret (whsec_...)")
    if forward_to and webhook_secret is None:
        raise CLIError(
            "--forward-to needs --webhook-secret whsec_... (the secret your app verifies with, "
            "its STRIPE_WEBHOOK_SECRET)"
        )
    for url in forward_to:
        if not url.startswith(("http://", "https://")):
            raise CLIError(f"--forward-to {url!r}: give a full http(s) URL")
    catalog = None
    if seed is not None:
        from stripekit import load_catalog

        catalog = load_catalog(seed)  # a mistake in the file stops us before serving
    console.print(f"Stripe emulator on [bold]http://{host}:{port}[/] (test mode, in memory)")
    console.print(f"  STRIPE_API_BASE=http://{host}:{port}  STRIPE_SECRET_KEY=sk_test_anything")
    for url in forward_to:
        console.print(f"  forwarding events to {url}")
    serve(
        host,
        port,
        forward_to=forward_to,
        webhook_secret=webhook_secret,
        on_ready=None if catalog is None else _seeder(catalog),
    )


def _seeder(catalog: Catalog) -> Callable[[RunningEmulator], None]:
    """Sync the catalog into the emulator, as ``stripekit products sync`` would."""

    def seed(running: RunningEmulator) -> None:
        import stripe

        from stripekit import apply_sync, plan_sync, read_account

        client = stripe.StripeClient(
            "sk_test_stripekit_seed", base_addresses={"api": running.api_base}
        )
        apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
        for product in catalog:
            keys = ", ".join(str(price.lookup_key) for price in product.prices)
            console.print(f"  seeded {product.key}: {product.name} ({keys})")

    return seed
