"""``stripekit new [DIR]``: a new shop from the project template (cookiecutter)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import typer

from ._common import CLIError, console

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
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.main import cookiecutter

    extra: dict[str, str] = {}
    if framework is not None:
        if framework not in ("fastapi", "django"):
            raise CLIError(f"--framework {framework!r}: give fastapi or django")
        extra["framework"] = framework
    if name is not None:
        extra["project_name"] = name
    directory.mkdir(parents=True, exist_ok=True)
    try:
        created = cookiecutter(
            str(template_path()), no_input=no_input, extra_context=extra, output_dir=str(directory)
        )
    except FailedHookException:
        raise CLIError("the answers were refused (see above); run again with other ones") from None
    except CookiecutterException as exc:
        raise CLIError(f"the project could not be created: {exc}") from None
    console.print(f"[green]✓[/] created {created}")
