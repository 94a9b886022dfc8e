"""The project template: every answer renders a complete project; bad answers are refused."""

from __future__ import annotations

import itertools
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template"
# A real-looking key or signing secret (Stripe's are 24+ random characters); the
# generated tests' dummies (sk_test_x, whsec_tests) are not secrets.
SECRET = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9]{20,}|whsec_[A-Za-z0-9]{20,}")


def generate(tmp_path: Path, **answers: object) -> Path:
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(tmp_path))
    )


def all_text(project: Path) -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for path in project.rglob("*")
        if (path.is_file() and path.suffix in {".py", ".toml", ".md", ".html", ".txt", ""})
        or path.name in {".env", ".env.example", ".gitignore"}
    }


@pytest.mark.parametrize("framework", ["fastapi", "django"])
def test_defaults_make_a_complete_project(tmp_path: Path, framework: str) -> None:
    project = generate(tmp_path, framework=framework)
    assert project.name == "my_shop"
    for name in (
        "pyproject.toml",
        "README.md",
        "products.toml",
        ".env",
        ".env.example",
        ".gitignore",
    ):
        assert (project / name).is_file(), name
    package = project / "my_shop"
    assert (package / "templates" / "stripekit" / "base.html").is_file()
    assert not any(package.glob("templates_*"))
    if framework == "fastapi":
        assert (package / "app.py").is_file() and not (project / "manage.py").exists()
        assert not (project / "shop").exists()
    else:
        assert (project / "manage.py").is_file() and (
            project / "shop" / "stripe_handlers.py"
        ).is_file()
        assert not (package / "app.py").exists()
    products = (project / "products.toml").read_text()
    assert "[products.starter_kit]" in products and "[products.pro]" in products
    assert "[products.credits]" in products


CHOICES = [c for c in itertools.product([True, False], repeat=3) if any(c)]


@pytest.mark.parametrize("framework", ["fastapi", "django"])
@pytest.mark.parametrize(("one_time", "subscription", "credits"), CHOICES)
def test_every_product_choice_renders_and_loads(
    tmp_path: Path, framework: str, one_time: bool, subscription: bool, credits: bool
) -> None:
    from stripekit import Catalog

    project = generate(
        tmp_path, framework=framework, one_time_product=one_time,
        subscription_product=subscription, credits_product=credits, currency="eur",
        account_page=credits,
    )  # fmt: skip
    catalog = Catalog.load(project / "products.toml")
    expected = {
        k
        for k, on in (("starter_kit", one_time), ("pro", subscription), ("credits", credits))
        if on
    }
    assert set(catalog.keys()) == expected
    assert {price.currency for _, price in catalog.prices()} == {"eur"}
    for path, text in all_text(project).items():
        assert "cookiecutter" not in text, f"unrendered template text in {path}"
        if path.suffix == ".py":
            compile(text, str(path), "exec")  # every module is valid Python
    # The account page is stripekit's (/stripe/account); the answer says whether the
    # project's layout links it.
    base = (project / "my_shop" / "templates" / "base.html").read_text()
    assert ('href="/stripe/account"' in base) is credits
    assert not (project / "my_shop" / "templates" / "account.html").exists()


def test_a_name_with_quotes_apostrophes_and_accents(tmp_path: Path) -> None:
    name = 'Zoë\'s "Crème" Brûlée — Café'
    project = generate(tmp_path, project_name=name)
    assert project.name == "zoe_s_creme_brulee_cafe"
    init = project / project.name / "__init__.py"
    namespace: dict[str, object] = {"__file__": str(init)}
    exec(compile(init.read_text(), str(init), "exec"), namespace)
    assert namespace["SHOP_NAME"] == name
    import tomllib

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"].startswith(name)
    assert f"# {name}" in (project / "README.md").read_text()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "My-Shop"}, "must be a Python package name"),
        ({"project_slug": "class"}, "must be a Python package name"),
        ({"project_slug": "django"}, "would hide a package"),
        ({"currency": "dollars"}, "currency 'dollars'"),
        ({"currency": "xyz"}, "currency 'xyz'"),
        ({"one_time_product": False, "subscription_product": False, "credits_product": False},
         "at least one product"),
    ],
)  # fmt: skip
def test_bad_answers_are_refused_with_a_reason(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, object], message: str
) -> None:
    with pytest.raises(FailedHookException):
        generate(tmp_path, **answers)
    assert message in capfd.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing half-made is left behind


@pytest.mark.parametrize("framework", ["fastapi", "django"])
def test_no_secret_outside_gitignored_files(tmp_path: Path, framework: str) -> None:
    project = generate(tmp_path, framework=framework)
    ignored = (project / ".gitignore").read_text().split()
    assert ".env" in ignored
    assert ".env" not in [
        line.strip() for line in (project / ".env.example").read_text().splitlines()
    ]
    for path, text in all_text(project).items():
        if path.name == ".env":
            continue
        assert not SECRET.search(text), f"a secret-looking value in {path}"
    env = (project / ".env").read_text()
    assert "STRIPE_API_BASE=http://127.0.0.1:12111" in env
    found = re.search(r"STRIPE_WEBHOOK_SECRET=(whsec_[0-9a-f]{32})", env)
    assert found
    assert not any(found[1] in text for p, text in all_text(project).items() if p.name != ".env")
    if framework == "fastapi":  # the sign-in session's key, the project's own too
        session = re.search(r"SESSION_SECRET=(\S{40,})", env)
        assert session and "SESSION_SECRET=\n" in (project / ".env.example").read_text()
    other = generate(tmp_path / "again", framework=framework)
    assert (other / ".env").read_text() != env  # each project gets its own webhook secret


def test_stripekit_new_runs_the_template_with_its_own_stripekit(tmp_path: Path) -> None:
    import tomllib

    from cli_harness import Runner

    result = Runner()(
        "new", str(tmp_path), "--no-input", "--framework", "django", "--name", "Tea Room"
    )
    assert result.exit_code == 0, result.output
    project = tmp_path / "tea_room"
    assert (project / "manage.py").is_file()
    # The project depends on this stripekit, from a wheel inside it, named relatively.
    wheels = list((project / "wheels").glob("stripekit-*-py3-none-any.whl"))
    assert len(wheels) == 1
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == [
        f"stripekit[django] @ {{root:uri}}/wheels/{wheels[0].name}"
    ]
    assert pyproject["tool"]["hatch"]["metadata"]["allow-direct-references"] is True
    import zipfile

    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert "stripekit/cli/_new.py" in names and "stripekit/_template/cookiecutter.json" in names
    assert "package index" in (project / "README.md").read_text()  # how to switch, later


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "flask"], "error: --framework 'flask': give fastapi or django"),
        (["--name", "1 bad"], "error: project_slug '1_bad' must be a Python package name"),
    ],
)
def test_a_refused_stripekit_new_is_one_line_and_leaves_no_folder(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    from cli_harness import Runner

    target = tmp_path / "new" / "place"
    refused = Runner()("new", str(target), "--no-input", *args)
    assert refused.exit_code == 1
    err = refused.stderr + capfd.readouterr().err  # the template's hook writes to the fd
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), err
    assert not (tmp_path / "new").exists()


def _project_env(project: Path, **values: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "STRIPE"))}
    env.update(values)
    return env


def _live_env(project: Path) -> None:
    """.env as for a deployment: real-looking keys, DEBUG off, the domain's hosts."""
    (project / ".env").write_text(
        "STRIPE_SECRET_KEY=sk_live_0123456789abcdefghijklmn\n"
        "STRIPE_PUBLISHABLE_KEY=pk_live_0123456789abcdefghijklmn\n"
        "STRIPE_WEBHOOK_SECRET=whsec_0123456789abcdefghijklmn\n"
        "STRIPEKIT_BASE_URL=https://shop.example\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        "DJANGO_ALLOWED_HOSTS=shop.example,www.shop.example\n"
        "DJANGO_CSRF_TRUSTED_ORIGINS=https://shop.example\n"
        "DJANGO_TIME_ZONE=Europe/Paris\n"
    )


def _manage(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=project, env=_project_env(project),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_django_project_goes_live_by_its_env_alone(tmp_path: Path) -> None:
    project = generate(tmp_path, framework="django")
    show = "from django.conf import settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.TIME_ZONE)"
    # As generated: DEBUG on this machine, local hosts, its own secret key.
    local = _manage(project, "shell", "-v", "0", "-c", show)
    assert local.stdout.strip() == "True ['127.0.0.1', 'localhost'] UTC", local.stderr
    _live_env(project)
    live = _manage(project, "shell", "-v", "0", "-c", show + "; print(s.CSRF_TRUSTED_ORIGINS)")
    assert live.stdout.split("\n")[:2] == [
        "False ['shop.example', 'www.shop.example'] Europe/Paris",
        "['https://shop.example']",
    ], live.stderr
    deploy = _manage(project, "check", "--deploy", "--fail-level", "WARNING")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "System check identified no issues" in deploy.stdout
    # Without a secret key it stops at once, saying where to put one.
    (project / ".env").write_text("DJANGO_DEBUG=0\n")
    keyless = _manage(project, "check")
    assert keyless.returncode == 1
    assert "DJANGO_SECRET_KEY is not set: put one in .env" in keyless.stderr


@pytest.mark.parametrize("framework", ["fastapi", "django"])
def test_every_setting_the_project_reads_is_in_env_example(tmp_path: Path, framework: str) -> None:
    project = generate(tmp_path, framework=framework)
    example = (project / ".env.example").read_text()
    read = set()
    for path in project.rglob("*.py"):
        if "tests" not in path.parts:
            read |= set(re.findall(r"os\.environ(?:\.get)?[\[(]\"([A-Z_]+)\"", path.read_text()))
            read |= set(re.findall(r"_(?:flag|list)\(\"([A-Z_]+)\"", path.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}  # manage.py's, not a setting
    assert "STRIPE_API_BASE" in read
    # The FastAPI shop keeps no database of its own (the billing state is stripekit's);
    # its sign-in session has a key.
    assert ("SESSION_SECRET" in read) is (framework == "fastapi")
    assert ("SHOP_DATABASE" in read) is (framework == "django")
    if framework == "django":
        assert {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS"} <= read
    for name in sorted(read):
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), f"{name} is not in .env.example"
    stripekit_settings = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                          "STRIPEKIT_BASE_URL", "STRIPEKIT_DATABASE_URL")  # fmt: skip
    for name in stripekit_settings:
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), name
