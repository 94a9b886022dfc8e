"""The project template: every answer renders a complete project; bad answers are refused."""

from __future__ import annotations

import itertools
import re
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
    assert ((project / "my_shop" / "templates" / "account.html").exists()) is credits


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
    other = generate(tmp_path / "again", framework=framework)
    assert (other / ".env").read_text() != env  # each project gets its own webhook secret


def test_stripekit_new_runs_the_template(tmp_path: Path) -> None:
    from cli_harness import Runner

    result = Runner()(
        "new", str(tmp_path), "--no-input", "--framework", "django", "--name", "Tea Room"
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tea_room" / "manage.py").is_file()
    refused = Runner()("new", str(tmp_path / "x"), "--no-input", "--framework", "flask")
    assert refused.exit_code == 1
    assert "give fastapi or django" in refused.stderr
