"""Every install line in README.md and docs/ works in a fresh virtual environment.

The lines are read from the pages themselves, so a new one without a test here
fails ``test_every_install_line_is_known``. Each runs once per session with the
environment's own pip, from this checkout's folder (``-e "."``), its path or a
wheel built from it, then the environment proves the line's promise: the
extra's framework imports, ``stripekit emulator`` and the ``stripe_emulator``
fixture work with ``[fastapi]`` alone and with ``[django]`` alone, and a missing
extra is one line naming it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from venvs import ROOT, Venv, run

pytestmark = pytest.mark.slow

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_PIP = re.compile(r"pip (?:install|wheel) [^`\n&#]*")

# Lines exercised elsewhere: by CI itself, or by the generated projects' test.
ELSEWHERE = {
    "pip install -q tox": "the README's test command, which .ci/run runs",
    "pip install -e '.[test]'": "tests/template/test_generated_projects.py",
    "pip install -q -e '.[test]'": "tests/template/test_generated_projects.py",
}
WHEEL_LINE = 'pip install "dist/stripekit-0.1.0-py3-none-any.whl[fastapi]"'


def documented_lines() -> dict[str, set[str]]:
    """Each ``pip install``/``pip wheel`` line of the pages → the pages that show it."""
    found: dict[str, set[str]] = {}
    for page in PAGES:
        for match in _PIP.finditer(page.read_text(encoding="utf-8")):
            line = match[0].strip()
            found.setdefault(line, set()).add(page.name)
    return found


def test_every_install_line_is_known() -> None:
    known = set(LINES) | set(ELSEWHERE) | {"pip wheel --no-deps -w dist ."}
    unknown = {line: pages for line, pages in documented_lines().items() if line not in known}
    assert not unknown, f"install lines no test runs: {unknown}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/pip install -q tox && .venv/bin/tox" in ci


def _fixture_test(venv: Venv, tmp_path: Path) -> None:
    """The stripe_emulator fixture, as a user's test uses it."""
    test = tmp_path / "test_with_emulator.py"
    test.write_text(textwrap.dedent("""
        import stripe

        def test_the_emulator_answers(stripe_emulator):
            base = {"api": stripe_emulator.api_base}
            client = stripe.StripeClient("sk_test_x", base_addresses=base)
            assert client.v1.products.create({"name": "Pro"}).name == "Pro"
    """))  # fmt: skip
    run([venv.python, "-m", "pip", "install", "-q", "pytest>=8"])
    result = run([venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                 cwd=tmp_path)  # fmt: skip
    assert "1 passed" in result.stdout


def _emulator_works(venv: Venv, tmp_path: Path) -> None:
    helped = run([venv.bin("stripekit"), "emulator", "--help"])
    assert "--forward-to" in helped.stdout
    _fixture_test(venv, tmp_path)


def check_fastapi(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("stripekit_fastapi") and venv.has("fastapi")
    assert not venv.has("django")
    _emulator_works(venv, tmp_path)
    assert "emulator" in run([venv.bin("stripekit"), "demo", "--help"]).stdout


def check_django(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("stripekit_django") and venv.has("django")
    assert not venv.has("fastapi")
    _emulator_works(venv, tmp_path)
    _missing_extra(venv, "demo", module="fastapi", extra="fastapi")


def check_postgres(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("psycopg") and not venv.has("uvicorn")
    _missing_extra(venv, "emulator", module="uvicorn", extra="emulator")


def _missing_extra(venv: Venv, command: str, *, module: str, extra: str) -> None:
    """``stripekit COMMAND`` without its extra: exit 1 and one line naming the extra."""
    done = run([venv.bin("stripekit"), command], check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: stripekit {command} needs {module}, which is not installed: install stripekit "
        f'with its [{extra}] extra (pip install -e ".[{extra}]" in a checkout)'
    ]


def check_docs(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("material") and venv.has("mkdocstrings_handlers.python")


def check_bench(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("uvloop") and venv.has("httptools") and venv.has("stripekit_fastapi")


def _imports(venv: Venv, code: str) -> None:
    run([venv.python, "-c", code])


def check_celery(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("celery") and not venv.has("dramatiq")
    _imports(venv, "from stripekit.queues.celery import register")


def check_metrics(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("prometheus_client")
    _imports(
        venv,
        "from stripekit import MemoryEventStore; from stripekit.webhooks._metrics import "
        "KitMetrics; assert list(KitMetrics(MemoryEventStore()).collect())",
    )


def check_otel(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("opentelemetry.trace")


def check_fast(venv: Venv, tmp_path: Path) -> None:
    assert venv.has("msgspec")
    _imports(venv, "from stripekit.webhooks._json import loads; assert loads(b'[1]') == [1]")


def check_bench_postgres(venv: Venv, tmp_path: Path) -> None:
    check_bench(venv, tmp_path)
    assert venv.has("psycopg")


LINES: dict[str, Callable[[Venv, Path], None]] = {
    'pip install -e ".[fastapi]"': check_fastapi,
    'pip install -q -e ".[fastapi]"': check_fastapi,
    'pip install -e ".[django]"': check_django,
    'pip install -e ".[postgres]"': check_postgres,
    'pip install -e ".[docs]"': check_docs,
    'pip install -e ".[bench]"': check_bench,
    'pip install -e ".[bench,postgres]"': check_bench_postgres,
    'pip install -e ".[celery]"': check_celery,
    'pip install -e ".[metrics]"': check_metrics,
    'pip install -e ".[otel]"': check_otel,
    'pip install -e ".[fast]"': check_fast,
    'pip install "path/to/stripekit[django]"': check_django,
    WHEEL_LINE: check_fastapi,
}


@pytest.mark.parametrize("line", sorted(LINES))
def test_the_install_line_works(
    line: str, tmp_path: Path, stripekit_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if line not in documented_lines():
        pytest.skip(f"{line!r} is no longer in the docs")  # test_every_install_line_is_known
    venv = Venv.create(tmp_path_factory.mktemp("venv") / ".venv")
    if line == WHEEL_LINE:
        built = sorted(stripekit_dist.glob("stripekit-*.whl"))
        assert [wheel.name for wheel in built] == ["stripekit-0.1.0-py3-none-any.whl"], (
            "the README's wheel name is not the one pip builds: update it"
        )
        venv.pip_line(line.replace("dist/", f"{stripekit_dist}/"), cwd=tmp_path)
    elif "path/to/stripekit" in line:
        venv.pip_line(line.replace("path/to/stripekit", str(ROOT)), cwd=tmp_path)
    else:
        venv.pip_line(line, cwd=ROOT)  # -e ".[...]": in the checkout, as written
    assert run([venv.bin("stripekit"), "--version"]).stdout.startswith("stripekit ")
    LINES[line](venv, tmp_path)
