"""``stripekit demo``: a demo shop on the local Stripe emulator, in one command."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from stripekit._extras import needs_extra

from ._common import CLIError

__all__ = ["demo"]


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="The shop's port."),
    emulator_port: int = typer.Option(12111, "--emulator-port", help="The emulator's port."),
) -> None:
    """Run a demo shop against the local Stripe emulator: no account, no network.

    Open the printed URL, buy something with 4242 4242 4242 4242, and watch the
    webhook fulfil the order. With STRIPE_SECRET_KEY set to a real test key (and
    STRIPE_WEBHOOK_SECRET from `stripe listen`), it uses Stripe instead.
    """
    with needs_extra("stripekit demo"):
        from stripekit_fastapi._demo import run_demo
    # As the user typed it (.venv/bin/stripekit), for the command line the demo prints.
    program = sys.argv[0] if Path(sys.argv[0]).name == "stripekit" else "stripekit"
    try:
        run_demo(host, port, emulator_port, program)
    except RuntimeError as exc:
        raise CLIError(str(exc)) from None
