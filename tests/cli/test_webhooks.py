"""``stripekit webhooks send|list-types``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_harness import SECRET, Runner


def test_send_posts_a_signed_realistic_event_the_app_accepts(
    cli: Runner, shop: Any, webhook_app: str
) -> None:
    result = cli(
        "webhooks", "send", "checkout.session.completed", "--to", webhook_app, "--secret", SECRET
    )
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.stdout
    assert '"processed"' in result.stdout
    (event_id,) = shop.ran
    stored = shop.kit.store.get(event_id)
    session = json.loads(stored.payload)["data"]["object"]
    assert session["object"] == "checkout.session"
    assert session["id"].startswith("cs_test_")
    assert {"amount_total", "payment_status", "customer", "line_items"} <= set(session)


def test_send_uses_the_configured_secret(cli: Runner, shop: Any, webhook_app: str) -> None:
    result = cli(
        "webhooks",
        "send",
        "customer.created",
        "--to",
        webhook_app,
        env={"STRIPE_WEBHOOK_SECRET": SECRET},
    )
    assert result.exit_code == 0, result.output
    assert '"unhandled"' in result.stdout


def test_send_with_the_wrong_secret_shows_the_refusal_and_exits_1(
    cli: Runner, shop: Any, webhook_app: str
) -> None:
    result = cli("webhooks", "send", "invoice.paid", "--to", webhook_app, "--secret", "whsec_wrong")
    assert result.exit_code == 1
    assert "HTTP 400" in result.stdout
    assert "signature" in result.stdout.lower()


def test_send_a_failing_handler_answers_500(cli: Runner, shop: Any, webhook_app: str) -> None:
    result = cli(
        "webhooks", "send", "invoice.payment_failed", "--to", webhook_app, "--secret", SECRET
    )
    assert result.exit_code == 1
    assert "HTTP 500" in result.stdout


def test_send_an_object_from_a_file(
    cli: Runner, shop: Any, webhook_app: str, tmp_path: Path, stripe_fixtures: dict[str, Any]
) -> None:
    path = tmp_path / "session.json"
    path.write_text(json.dumps(stripe_fixtures["checkout.session"]))
    result = cli(
        "webhooks",
        "send",
        "checkout.session.completed",
        "--to",
        webhook_app,
        "--secret",
        SECRET,
        "--object",
        str(path),
    )
    assert result.exit_code == 0, result.output
    (event_id,) = shop.ran
    payload = json.loads(shop.kit.store.get(event_id).payload)
    assert payload["data"]["object"]["id"] == stripe_fixtures["checkout.session"]["id"]


def test_send_refusals_are_one_line(cli: Runner, shop: Any, tmp_path: Path) -> None:
    not_json = tmp_path / "x.json"
    not_json.write_text("{nope")
    cases = [
        (["checkout.session.complete", "--to", "http://x", "--secret", SECRET], "did you mean"),
        (["invoice.*", "--to", "http://x", "--secret", SECRET], "is a pattern"),
        (["invoice.paid", "--to", "localhost:8000", "--secret", SECRET], "give the full URL"),
        (["invoice.paid", "--to", "http://127.0.0.1:9"], "no signing secret"),
        (["invoice.paid", "--to", "http://127.0.0.1:9", "--secret", SECRET], "cannot reach"),
        (
            ["invoice.paid", "--to", "http://x", "--secret", SECRET, "--object", str(not_json)],
            "not a readable JSON file",
        ),
    ]
    for args, message in cases:
        result = cli("webhooks", "send", *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1


def test_list_types_filters_by_pattern(cli: Runner) -> None:
    result = cli("webhooks", "list-types", "checkout.session.*")
    lines = result.stdout.split()
    assert "checkout.session.completed" in lines
    assert "checkout.session.async_payment_failed" in lines
    assert all(line.startswith("checkout.session.") for line in lines)
    everything = cli("webhooks", "list-types").stdout.split()
    assert len(everything) > 200
    assert "invoice.paid" in everything


def test_list_types_with_a_typo_suggests(cli: Runner) -> None:
    result = cli("webhooks", "list-types", "invoice.payed")
    assert result.exit_code == 1
    assert "did you mean 'invoice.paid'" in result.stderr
