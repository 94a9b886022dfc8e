from __future__ import annotations

import subprocess
import sys

import stripekit
import stripekit.testing
import stripekit_django
import stripekit_fastapi


def test_all_is_sorted_and_complete() -> None:
    assert stripekit.__all__ == sorted(stripekit.__all__)
    assert set(stripekit.__all__) == set(stripekit._EXPORTS)
    for name in stripekit.__all__:
        value = getattr(stripekit, name)
        assert value is not None
        assert getattr(value, "__doc__", None), f"{name} has no docstring"
        assert not name.startswith("_")


def test_testing_helpers_are_exported() -> None:
    assert stripekit.testing.__all__ == sorted(stripekit.testing.__all__)
    for name in stripekit.testing.__all__:
        assert getattr(stripekit.testing, name).__doc__


def test_integration_packages_exist() -> None:
    assert stripekit_fastapi.__all__ == sorted(stripekit_fastapi.__all__)
    assert stripekit_django.__all__ == sorted(stripekit_django.__all__)


def test_unknown_attribute() -> None:
    try:
        stripekit.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_importing_stripekit_loads_nothing_heavy() -> None:
    heavy = ["stripe", "sqlalchemy", "fastapi", "starlette", "django", "pydantic", "httpx"]
    code = f"import sys, stripekit\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.check_output([sys.executable, "-c", code], text=True).strip()
    assert loaded == ""
