"""Management commands that are the ``stripekit`` command, run inside the Django project.

``manage.py stripekit_events list`` is ``stripekit events list`` with Django set up
by manage.py, so the command reads ``settings.STRIPEKIT`` and the project's event
store: the same code, the same flags, the same output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

__all__ = ["StripekitCommand"]


class StripekitCommand(BaseCommand):
    """Hands its arguments to ``stripekit <cli_command>``."""

    cli_command: ClassVar[tuple[str, ...]] = ()
    name: ClassVar[str] = ""
    """The management command's name (``stripekit_events``), for its usage lines."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "cli_args",
            nargs=argparse.REMAINDER,
            help=f"what `stripekit {' '.join(self.cli_command)}` takes (try --help)",
        )

    def run_from_argv(self, argv: list[str]) -> None:
        """From manage.py: the stripekit command parses every argument (``--help`` included)."""
        code = _run([*self.cli_command, *argv[2:]], f"{Path(argv[0]).name} {self.name}")
        if code:
            sys.exit(code)

    def handle(self, *args: Any, **options: Any) -> None:
        """From ``call_command("stripekit_events", "list", ...)``."""
        code = _run([*self.cli_command, *options["cli_args"]], f"manage.py {self.name}")
        if code:
            raise CommandError(f"stripekit {' '.join(self.cli_command)} exited {code}", code)


def _run(args: list[str], prog_name: str) -> int:
    from django.conf import settings

    from stripekit.cli import Options, run

    # Django is set up already: the stripekit command finds the project through this module.
    command, *rest = args
    options = Options(django_settings=settings.SETTINGS_MODULE)
    return run(command, rest, prog_name=prog_name, options=options)
