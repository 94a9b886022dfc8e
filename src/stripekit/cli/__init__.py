"""The ``stripekit`` command.

Each group of subcommands lives in its own private module and is added to
:data:`app` here, so ``stripekit --help`` lists them all.

Example:
    $ stripekit --help
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import typer

from stripekit import __version__
from stripekit._errors import StripekitError

from ._billing import billing_app
from ._check import check
from ._common import Group, Options, report
from ._demo import demo
from ._emulator import emulator
from ._events import events_app
from ._new import new
from ._products import products_app
from ._webhooks import webhooks_app

app = typer.Typer(
    name="stripekit",
    help="Run a Stripe integration day to day: emulator, demo shop, products, events, webhooks.",
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
app.command("demo")(demo)
app.command("check")(check)
app.command("new")(new)
app.command("emulator")(emulator)
app.add_typer(products_app, name="products")
app.add_typer(events_app, name="events")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(billing_app, name="billing")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stripekit {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    env_file: Path | None = typer.Option(
        None,
        "--env-file",
        help="Read settings from this file (default: ./.env when it exists).",
        dir_okay=False,
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks instead of one-line errors."
    ),
    django_settings: str | None = typer.Option(
        None,
        "--django-settings",
        help="A Django project's settings module: use its STRIPEKIT settings and its event "
        "store (default: DJANGO_SETTINGS_MODULE).",
        metavar="MODULE",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Run a Stripe integration day to day: emulator, demo shop, products, events, webhooks.

    Settings come from flags, then a Django project's STRIPEKIT settings (with
    DJANGO_SETTINGS_MODULE or --django-settings), then the environment
    (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPEKIT_DATABASE_URL...), then a .env file.
    """
    ctx.obj = Options(env_file=env_file, debug=debug, django_settings=django_settings)
    if not debug:
        # Results are printed as tables; keep handler tracebacks out of the terminal.
        logging.getLogger("stripekit").addHandler(logging.NullHandler())


def main() -> None:
    """Entry point of the ``stripekit`` console script (and ``python -m stripekit.cli``)."""
    app(prog_name="stripekit")


def run(
    command: str, args: Sequence[str], *, prog_name: str, options: Options | None = None
) -> int:
    """Run ``stripekit COMMAND ARGS...`` in this process as if it were ``prog_name``.

    Django's management commands are this: ``manage.py stripekit_events list`` runs
    the events group with the project's settings module in ``options``, its usage
    lines saying ``manage.py stripekit_events``. Returns the exit code.
    """
    root = typer.main.get_command(app)
    found = root.get_command(typer.Context(root), command) if isinstance(root, Group) else None
    if found is None:
        raise ValueError(f"stripekit has no command {command!r}")
    opts = options or Options()
    if not opts.debug:
        logging.getLogger("stripekit").addHandler(logging.NullHandler())
    try:
        found.main(args=list(args), prog_name=prog_name, obj=opts, standalone_mode=True)
    except StripekitError as exc:
        if opts.debug:
            raise
        report(exc)
        return 1
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return 1
    return 0


__all__ = ["Options", "app", "main", "run"]
