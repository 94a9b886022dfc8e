"""Fresh virtual environments for the tests that install stripekit as a user would.

Each environment installs from PyPI and from local paths only (this checkout, a
wheel built from it once per session, a generated project's ``wheels/``). When
PyPI cannot be reached the test skips with the reason (fails in CI, see
services.py). Environments are made once per session per install line.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from services import service_missing

ROOT = Path(__file__).resolve().parents[2]
# pip's words when the index is out of reach (not when a package is wrong).
_OFFLINE = re.compile(
    r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
    r"Could not fetch URL|ProxyError|ConnectTimeout|Read timed out"
)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the settings of the tests' own stripekit and Django."""
    drop = ("STRIPE", "DJANGO", "PYTEST", "VIRTUAL_ENV", "PYTHONPATH", "COV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def run(
    command: list[str] | str, *, cwd: Path | None = None, env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run a command (a string runs in bash, as typed in a terminal); fail with its output."""
    result = subprocess.run(
        ["bash", "-c", command] if isinstance(command, str) else command,
        cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = f"{command}\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    if check and result.returncode != 0:
        if _OFFLINE.search(result.stdout + result.stderr):
            service_missing(f"PyPI is not reachable to install packages: {output[-500:]}")
        raise AssertionError(output)
    return result


@dataclass(frozen=True)
class Venv:
    """A virtual environment: its folder and its programs."""

    path: Path

    @classmethod
    def create(cls, path: Path) -> Venv:
        run([sys.executable, "-m", "venv", str(path)])
        return cls(path)

    def bin(self, name: str) -> str:
        return str(self.path / "bin" / name)

    @property
    def python(self) -> str:
        return self.bin("python")

    def pip_line(self, line: str, *, cwd: Path) -> subprocess.CompletedProcess[str]:
        """A documented ``pip install ...`` line, run with this environment's pip."""
        args = shlex.split(line)
        assert args[0] == "pip", line
        return run([self.python, "-m", *args, "-q", "--disable-pip-version-check"], cwd=cwd)

    def has(self, module: str) -> bool:
        found = run([self.python, "-c", f"import {module}"], check=False)
        return found.returncode == 0
