"""What every subcommand shares: settings from env/.env/flags, one-line errors, the console.

Errors a user can cause (every StripekitError, a bad ``--app``, an unreachable
URL) print as one line saying what to fix and exit 1; ``stripekit --debug``
shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from stripekit._errors import StripekitError

__all__ = [
    "CLIError",
    "Group",
    "Options",
    "check_account_option",
    "console",
    "error_console",
    "import_object",
    "load_env_file",
    "options",
    "report",
]

console = Console(highlight=False, soft_wrap=True)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


class CLIError(StripekitError):
    """A command-line mistake: the message says what to type instead."""


@dataclass
class Options:
    """The root command's options, handed to every subcommand through the context."""

    env_file: Path | None = None
    debug: bool = False
    django_settings: str | None = None


def check_account_option(account: str | None) -> None:
    """Refuse an ``--account`` that is not a connected account's id (before any request)."""
    from stripekit._connect import is_account_id

    if account is not None and not is_account_id(account):
        raise CLIError(f"--account takes a connected account's id (acct_...), not {account!r}")


def options(ctx: typer.Context) -> Options:
    """The root options of this invocation (defaults when a subcommand runs alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


def load_env_file(path: Path | None) -> None:
    """Put the ``.env`` file's values into the environment, under what is already set.

    Into the environment (not only into the CLI's settings) so that an app the
    command imports (``--app shop:kit``) sees the same settings as the command.
    """
    from dotenv import dotenv_values  # comes with pydantic-settings

    if path is None:
        if not Path(".env").is_file():
            return
        path = Path(".env")
    elif not path.is_file():
        raise CLIError(f"--env-file {path}: no such file")
    for name, value in dotenv_values(path).items():
        if value is not None:
            os.environ.setdefault(name, value)


def import_object(spec: str, option: str = "--app") -> Any:
    """``package.module:attr`` → that object, importable from the current directory."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise CLIError(f"{option} {spec!r}: write module:attribute, e.g. myshop.payments:kit")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CLIError(f"{option} {spec!r}: cannot import {module_name!r} ({exc})") from None
    try:
        value: Any = module
        for part in attr.split("."):
            value = getattr(value, part)
    except AttributeError:
        raise CLIError(f"{option} {spec!r}: {module_name!r} has no attribute {attr!r}") from None
    return value


def report(exc: StripekitError) -> None:
    """Print a user's mistake as one line on stderr."""
    error_console.print(f"[bold red]error:[/] {escape(str(exc))}")


class Group(TyperGroup):
    """The root group: turns a StripekitError from any subcommand into one readable line."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except StripekitError as exc:
            if isinstance(ctx.obj, Options) and ctx.obj.debug:
                raise
            report(exc)
            raise typer.Exit(1) from None
