"""``stripekit new [DIR]``: a new shop from the project template (cookiecutter).

The project depends on the stripekit that made it: a wheel of it goes into the
project's ``wheels/`` folder and its ``pyproject.toml`` points there (relative to
the project, so the folder can move). Nothing is left behind when generation is
refused or interrupted.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

import typer

from ._common import CLIError, console
from ._wheel import build_wheel

__all__ = ["new", "template_path"]


def template_path() -> Path:
    """The template: shipped in the wheel, or the repository's template/ (editable installs)."""
    shipped = Path(str(files("stripekit").joinpath("_template")))
    if (shipped / "cookiecutter.json").is_file():
        return shipped
    source = Path(__file__).resolve().parents[3] / "template"
    if (source / "cookiecutter.json").is_file():
        return source
    raise CLIError("the project template is missing from this stripekit installation; reinstall it")


def new(
    directory: Path = typer.Argument(Path("."), help="Where to create the project folder."),
    framework: str | None = typer.Option(None, "--framework", help="fastapi or django."),
    name: str | None = typer.Option(None, "--name", help="The project's name."),
    no_input: bool = typer.Option(False, "--no-input", help="Take the defaults; ask nothing."),
) -> None:
    """Create a new shop: FastAPI or Django, products, pages, handlers, tests and a .env."""
    extra: dict[str, str] = {}
    if framework is not None:
        if framework not in ("fastapi", "django"):
            raise CLIError(f"--framework {framework!r}: give fastapi or django")
        extra["framework"] = framework
    if name is not None:
        extra["project_name"] = name
    made = _missing_parents(directory)
    try:
        with tempfile.TemporaryDirectory(prefix="stripekit-new-") as tmp:
            with console.status("packing this stripekit for the project"):
                wheel = build_wheel(Path(tmp))
            extra["_stripekit_wheel"] = wheel.name
            directory.mkdir(parents=True, exist_ok=True)
            created = Path(_generate(directory, no_input, extra))
            (created / "wheels").mkdir(exist_ok=True)
            shutil.copyfile(wheel, created / "wheels" / wheel.name)
    except BaseException:
        # Refused, failed or interrupted: the folders this command made go too.
        for folder in made:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    console.print(f"[green]✓[/] created {created}")


def _missing_parents(directory: Path) -> list[Path]:
    """The folders ``mkdir(parents=True)`` would create, deepest first."""
    missing = []
    for folder in [directory.absolute(), *directory.absolute().parents]:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def _generate(directory: Path, no_input: bool, extra: dict[str, str]) -> str:
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.main import cookiecutter

    # cookiecutter logs a refused answer with its traceback; the hook said what to fix.
    quiet = logging.getLogger("cookiecutter")
    handler = logging.NullHandler()
    quiet.addHandler(handler)
    quiet.propagate = False
    try:
        created: str = cookiecutter(
            str(template_path()), no_input=no_input, extra_context=extra, output_dir=str(directory)
        )
    except FailedHookException:
        # The template's hook printed the refused answer and what to give instead.
        raise typer.Exit(1) from None
    except CookiecutterException as exc:
        raise CLIError(f"the project could not be created: {exc}") from None
    finally:
        quiet.removeHandler(handler)
        quiet.propagate = True
    return created
