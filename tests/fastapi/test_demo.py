"""``stripekit demo``: its command line, and its refusal to half-work with a real key."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from typing import Any

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


def test_the_demo_prints_its_secret_and_a_send_line_that_gets_a_2xx(tmp_path: Any) -> None:
    """As a newcomer runs it: `stripekit demo`, then the `webhooks send` line it printed."""
    from stripekit._serving import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE", "DJANGO"))}
    command = [sys.executable, "-m", "stripekit.cli", "demo"]
    ports = ["--port", str(free_port()), "--emulator-port", str(free_port())]
    demo = subprocess.Popen(
        [*command, *ports], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert demo.stdout is not None
    try:
        lines = []
        for line in demo.stdout:  # the banner ends with how to stop it
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        banner = "".join(lines)
        assert "Webhook secret: whsec_stripekit_demo" in banner, banner
        send = next(line.strip() for line in lines if line.strip().startswith("stripekit webhooks"))
        assert "--secret whsec_stripekit_demo" in send
        sent = subprocess.run(
            [sys.executable, "-m", "stripekit.cli", *shlex.split(send)[1:]],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "HTTP 200" in sent.stdout and '"processed"' in sent.stdout
    finally:
        demo.send_signal(signal.SIGTERM)  # a process manager's stop: cleans up as Ctrl-C does
        rest = demo.communicate(timeout=30)[0]
    assert demo.returncode == 0, rest
    assert "nothing to fulfil" in rest and "stopped" in rest


def test_a_failing_handler_is_printed_and_the_demo_cleans_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import httpx

    from stripekit._serving import free_port
    from stripekit.testing import signed_event
    from stripekit_fastapi._demo import running_demo

    with running_demo(port=free_port(), emulator_port=free_port()) as shop:
        data_dir = shop.data_dir
        assert shop.webhook_secret is not None and data_dir.is_dir()
        # A renewal whose amount is no amount: the demo's handler raises on it.
        invoice = {"id": "in_broken", "object": "invoice", "billing_reason": "subscription_cycle",
                   "amount_paid": "lots", "currency": "usd"}  # fmt: skip
        body, headers = signed_event(
            "invoice.paid", invoice, secret=shop.webhook_secret, id="evt_demo_broken"
        )
        answer = httpx.post(f"{shop.url}/stripe/webhook", content=body, headers=headers)
        assert answer.status_code == 500
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "evt_demo_broken" in line)
    assert line.startswith("✗ handler ") and "renewal" in line and "(invoice.paid)" in line
    assert "Error: " in line  # the exception's type and message, on the same line
    assert not data_dir.exists()
