"""Each generated project, as a newcomer gets it: made by ``stripekit new`` from a stripekit
installed from its wheel, then its README's two commands, as written, in the project's
folder: a fresh virtual environment with only the project's own declared dependencies
(the stripekit wheel it carries, its framework, its test tools), a shop that fulfils a
purchase through the emulator, and its tests passing.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from venvs import Venv, clean_env, run

from stripekit._serving import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def maker(stripekit_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """stripekit installed from its wheel, alone: what runs `stripekit new`."""
    venv = Venv.create(tmp_path_factory.mktemp("maker") / ".venv")
    wheel = next(stripekit_dist.glob("stripekit-*.whl"))
    run([venv.python, "-m", "pip", "install", "-q", str(wheel)])
    return venv


def readme_commands(project: Path) -> list[str]:
    """The shell blocks of the project's README: its two commands."""
    text = (project / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)]


@pytest.fixture(scope="module", params=["fastapi", "django"])
def project(
    request: pytest.FixtureRequest, maker: Venv, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    framework = request.param
    out = tmp_path_factory.mktemp(f"generated-{framework}")
    made = run([maker.bin("stripekit"), "new", str(out), "--no-input", "--framework", framework,
                "--name", f"Test {framework} shop"])  # fmt: skip
    assert "✓ created" in made.stdout
    path = out / f"test_{framework}_shop"
    assert list((path / "wheels").glob("stripekit-*.whl"))  # carried, not fetched
    return path


def test_its_readme_has_two_commands(project: Path) -> None:
    first, second = readme_commands(project)
    assert first.startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert first.endswith(f".venv/bin/python -m {project.name}")
    assert second == ".venv/bin/pytest"


def test_its_two_commands_install_run_a_shop_that_fulfils_and_pass_its_tests(
    project: Path, tmp_path: Path
) -> None:
    first, second = readme_commands(project)
    *install, serve = first.split(" && ")
    run(" && ".join(install), cwd=project)
    venv = Venv(project / ".venv")
    # Only what the project declares: its framework, not the other one.
    other = "django" if project.name.startswith("test_fastapi") else "fastapi"
    assert not venv.has(other)
    _serve_and_buy(project, serve, tmp_path)
    tests = run(second, cwd=project)
    assert re.search(r"\d+ passed", tests.stdout), tests.stdout


def _serve_and_buy(project: Path, serve: str, tmp_path: Path) -> None:
    """The README's run command (on free ports), then a signed-in purchase as a browser makes
    it, seen on the account page."""
    port, emulator_port = free_port(), free_port()
    env = clean_env(
        STRIPE_API_BASE=f"http://127.0.0.1:{emulator_port}",
        SHOP_DATABASE=str(tmp_path / "shop.sqlite3"),
        STRIPEKIT_DATABASE_URL=f"sqlite:///{tmp_path / 'events.sqlite3'}",
    )
    django = (project / "manage.py").exists()
    if django:  # a user to sign in as, made as the sign-in page says
        python = str(Venv(project / ".venv").python)
        run([python, "manage.py", "migrate", "--verbosity", "0"], cwd=project, env=env)
        run([python, "manage.py", "createsuperuser", "--noinput", "--username", "ada",
             "--email", "ada@example.com"], cwd=project,
            env={**env, "DJANGO_SUPERUSER_PASSWORD": "pw-for-ada"})  # fmt: skip
    process = subprocess.Popen(
        ["bash", "-c", f"exec {serve} --port {port}"], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    shop = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=shop, timeout=10) as browser:
            for _ in range(600):
                try:
                    if browser.get("/stripe/pricing").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, "the shop stopped"
                time.sleep(0.1)
            assert browser.get("/stripe/account").status_code == 401
            _sign_in(browser, shop, django)
            page = browser.get("/stripe/pricing").text
            form = {"product": "starter_kit"}
            headers = {}
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if token:  # Django protects the form
                form["csrfmiddlewaretoken"] = token[1]
                headers["Referer"] = f"{shop}/stripe/pricing"
            to_checkout = browser.post("/stripe/checkout", data=form, headers=headers)
            assert to_checkout.status_code == 303, to_checkout.text
            pay = to_checkout.headers["location"]
            assert pay.startswith(f"http://127.0.0.1:{emulator_port}/c/pay/")
            paid = httpx.post(pay, data={"card_number": "4242424242424242"})
            assert paid.status_code == 303, paid.text
            session_id = pay.rsplit("/", 1)[1]
            assert paid.headers["location"] == f"{shop}/stripe/success?session_id={session_id}"
            for _ in range(100):  # the webhook lands a moment after the redirect
                if f'id="purchase-{session_id}"' in browser.get("/stripe/account").text:
                    break
                time.sleep(0.1)
            assert f'id="purchase-{session_id}"' in browser.get("/stripe/account").text
            assert (
                'id="status">paid' in browser.get(f"/stripe/success?session_id={session_id}").text
            )
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "fulfilled Starter kit x 1 for " in output and session_id in output, output[-3000:]


def _sign_in(browser: httpx.Client, shop: str, django: bool) -> None:
    if django:
        page = browser.get("/accounts/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        form = {"username": "ada", "password": "pw-for-ada", "csrfmiddlewaretoken": token[1]}
        answer = browser.post(
            "/accounts/login/", data=form, headers={"Referer": f"{shop}/accounts/login/"}
        )
        assert answer.status_code == 302, answer.text[:500]
    else:
        answer = browser.post("/signin", data={"email": "ada@example.com"})
        assert answer.status_code == 303, answer.text[:500]
    assert 'id="signed-in-as"' in browser.get("/stripe/pricing").text
