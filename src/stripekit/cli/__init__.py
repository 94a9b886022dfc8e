"""The ``stripekit`` command.

Each group of subcommands lives in its own private module and is added to
:data:`app` here, so ``stripekit --help`` lists them all.

Example:
    $ stripekit --help
"""

from __future__ import annotations

import typer

from stripekit import __version__

app = typer.Typer(
    name="stripekit",
    help="Run a Stripe integration day to day: emulator, demo shop, products, events, webhooks.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stripekit {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Run a Stripe integration day to day: emulator, demo shop, products, events, webhooks."""


def main() -> None:
    """Entry point of the ``stripekit`` console script."""
    app()


__all__ = ["app", "main"]
