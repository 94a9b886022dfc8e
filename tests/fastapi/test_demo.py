"""``stripekit demo``: its command line, and its refusal to half-work with a real key."""

from __future__ import annotations

import pytest
from cli_harness import Runner


def test_demo_help_says_what_it_does() -> None:
    result = Runner()("demo", "--help")
    assert result.exit_code == 0
    assert "emulator" in result.stdout and "--port" in result.stdout


def test_a_real_key_without_a_webhook_secret_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stripekit._serving import free_port

    result = Runner()(
        "demo",
        "--port",
        str(free_port()),
        "--emulator-port",
        str(free_port()),
        env={"STRIPE_SECRET_KEY": "sk_test_a_real_looking_key"},
    )
    assert result.exit_code == 1
    assert "stripe listen --forward-to" in result.stderr
    assert "sk_test_a_real_looking_key" not in result.output
