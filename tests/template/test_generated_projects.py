"""Each generated project, installed in a fresh virtual environment: its tests pass, and its
run command serves a shop where a purchase through the emulator is fulfilled.

One environment, with stripekit installed from this repository, serves every
generated project (each installed into it without dependencies): honest, since
the project's own dependencies are exactly stripekit's extras.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cookiecutter.main import cookiecutter

from stripekit._serving import free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template"

pytestmark = pytest.mark.slow


def _run(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, **options)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("projects-venv")
    _run([sys.executable, "-m", "venv", str(where)])
    python = where / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", f"{ROOT}[fastapi,django]",
          "pytest>=8", "pytest-asyncio>=0.23", "pytest-django>=4.8"])  # fmt: skip
    return python


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE", "DJANGO", "PYTEST"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module", params=["fastapi", "django"])
def project(
    request: pytest.FixtureRequest, venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    framework = request.param
    out = tmp_path_factory.mktemp(f"generated-{framework}")
    path = Path(cookiecutter(
        str(TEMPLATE), no_input=True, output_dir=str(out),
        extra_context={"framework": framework, "project_name": f"Test {framework} shop"},
    ))  # fmt: skip
    _run([str(venv), "-m", "pip", "install", "-q", "--no-deps", "-e", str(path)])
    return framework, path


def test_its_own_tests_pass(project: tuple[str, Path], venv: Path) -> None:
    _, path = project
    result = _run(
        [str(venv), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=path, env=_clean_env()
    )
    assert " passed" in result.stdout


def test_its_run_command_serves_a_shop_that_fulfils_a_purchase(
    project: tuple[str, Path], venv: Path, tmp_path: Path
) -> None:
    _, path = project
    port, emulator_port = free_port(), free_port()
    env = _clean_env(
        STRIPE_API_BASE=f"http://127.0.0.1:{emulator_port}",
        SHOP_DATABASE=str(tmp_path / "shop.sqlite3"),
        STRIPEKIT_DATABASE_URL=f"sqlite:///{tmp_path / 'events.sqlite3'}",
    )
    process = subprocess.Popen(
        [str(venv), "-m", path.name, "--port", str(port)], cwd=path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    shop = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=shop, timeout=10) as browser:
            for _ in range(300):
                try:
                    if browser.get("/stripe/pricing").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            page = browser.get("/stripe/pricing").text
            form = {"product": "starter_kit"}
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            headers = {}
            if token:  # Django protects the form
                form["csrfmiddlewaretoken"] = token[1]
                headers["Referer"] = f"{shop}/stripe/pricing"
            to_checkout = browser.post("/stripe/checkout", data=form, headers=headers)
            assert to_checkout.status_code == 303, to_checkout.text
            pay = to_checkout.headers["location"]
            assert pay.startswith(f"http://127.0.0.1:{emulator_port}/c/pay/")
            paid = httpx.post(
                pay, data={"card_number": "4242424242424242", "email": "ada@example.com"}
            )
            assert paid.status_code == 303
            session_id = pay.rsplit("/", 1)[1]
            assert paid.headers["location"] == f"{shop}/stripe/success?session_id={session_id}"
            for _ in range(100):  # the webhook lands a moment after the redirect
                if session_id in browser.get("/account").text:
                    break
                time.sleep(0.1)
            assert session_id in browser.get("/account").text
            assert (
                'id="status">paid' in browser.get(f"/stripe/success?session_id={session_id}").text
            )
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert f"fulfilled starter_kit x 1 for ada@example.com ({session_id})" in output, output[-3000:]
