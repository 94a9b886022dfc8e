"""``stripekit events list|show|replay`` over a SQLite event store."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import pytest
from cli_harness import Runner
from open_connections import sqlite_connections, still_open

from stripekit import EventStatus
from stripekit.cli._events import parse_since


def test_list_shows_every_recorded_event(cli: Runner, history: Any, database_url: str) -> None:
    result = cli("events", "list", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    for event_id in ("evt_paid", "evt_broken", "evt_unhandled"):
        assert event_id in result.stdout
    assert "3 event(s)" in result.stdout
    assert "the mailer is down" in result.stdout  # the failure's last line


def test_list_reads_the_store_from_the_environment(
    cli: Runner, history: Any, database_url: str
) -> None:
    result = cli("events", "list", env={"STRIPEKIT_DATABASE_URL": database_url})
    assert "evt_paid" in result.stdout


@pytest.mark.parametrize(
    ("flags", "shown", "hidden"),
    [
        (["--status", "failed"], {"evt_broken"}, {"evt_paid", "evt_unhandled"}),
        (["--type", "customer.created"], {"evt_unhandled"}, {"evt_paid", "evt_broken"}),
        (["--status", "processed", "--since", "1h"], {"evt_paid"}, {"evt_broken"}),
        (["--since", "2999-01-01"], set(), {"evt_paid", "evt_broken", "evt_unhandled"}),
    ],
)
def test_list_filters(
    cli: Runner,
    history: Any,
    database_url: str,
    flags: list[str],
    shown: set[str],
    hidden: set[str],
) -> None:
    result = cli("events", "list", "--database-url", database_url, *flags)
    assert result.exit_code == 0, result.output
    assert all(event_id in result.stdout for event_id in shown)
    assert not any(event_id in result.stdout for event_id in hidden)
    if not shown:
        assert "no events recorded" in result.stdout


def test_list_refuses_a_bad_status_and_a_bad_since(
    cli: Runner, history: Any, database_url: str
) -> None:
    bad_status = cli("events", "list", "--database-url", database_url, "--status", "broken")
    assert bad_status.exit_code == 2
    assert "processed" in bad_status.stderr  # click lists the valid choices
    bad_since = cli("events", "list", "--database-url", database_url, "--since", "yesterday")
    assert bad_since.exit_code == 1
    assert bad_since.stderr.startswith("error: --since 'yesterday'")
    assert "Traceback" not in bad_since.output


def test_show_prints_the_record_and_the_payload(
    cli: Runner, history: Any, database_url: str
) -> None:
    result = cli("events", "show", "evt_broken", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert "invoice.payment_failed" in result.stdout
    assert "RuntimeError: the mailer is down" in result.stdout
    payload = result.stdout[result.stdout.index("{") :]
    assert json.loads(payload)["id"] == "evt_broken"


def test_show_an_unknown_event_is_one_line(cli: Runner, history: Any, database_url: str) -> None:
    result = cli("events", "show", "evt_nope", "--database-url", database_url)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: no event evt_nope in " + database_url + ": `stripekit events list` shows what is"
    ]


def test_replay_one_failed_event_once_fixed(cli: Runner, history: Any) -> None:
    name = history.__name__
    still_broken = cli("events", "replay", "evt_broken", "--app", f"{name}:kit")
    assert still_broken.exit_code == 1
    assert "failed" in still_broken.stdout

    history.broken.clear()  # the mailer is back
    fixed = cli("events", "replay", "evt_broken", "--app", f"{name}:kit")
    assert fixed.exit_code == 0, fixed.output
    assert "processed" in fixed.stdout
    assert history.ran == ["evt_paid", "evt_broken"]
    stored = history.kit.store.get("evt_broken")
    assert (stored.status, stored.attempts) == (EventStatus.PROCESSED, 3)


def test_replay_a_processed_event_needs_force(cli: Runner, history: Any) -> None:
    name = history.__name__
    done = cli("events", "replay", "evt_paid", "--app", f"{name}:kit")
    assert done.exit_code == 0
    assert "already done" in done.stdout
    assert history.ran == ["evt_paid"]
    forced = cli("events", "replay", "evt_paid", "--app", f"{name}:kit", "--force")
    assert forced.exit_code == 0
    assert history.ran == ["evt_paid", "evt_paid"]


def test_replay_every_failed_event_with_a_registry_and_a_store_url(
    cli: Runner, history: Any, database_url: str
) -> None:
    history.broken.clear()
    result = cli(
        "events",
        "replay",
        "--failed",
        "--app",
        f"{history.__name__}:webhooks",
        "--database-url",
        database_url,
    )
    assert result.exit_code == 0, result.output
    assert "evt_broken" in result.stdout
    assert history.ran == ["evt_paid", "evt_broken"]
    again = cli(
        "events",
        "replay",
        "--failed",
        "--app",
        f"{history.__name__}:webhooks",
        "--database-url",
        database_url,
    )
    assert "no failed events" in again.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["show", "evt_broken"],
        ["show", "evt_none"],  # an error, the store closed all the same
        ["replay", "--failed", "--app", "{app}:webhooks"],
        ["sweep", "--app", "{app}:webhooks", "--grace", "0"],
    ],
    ids=lambda command: "-".join(command[:2]),
)
def test_a_command_closes_the_store_it_opened(
    cli: Runner, history: Any, database_url: str, command: list[str]
) -> None:
    history.broken.clear()
    args = [arg.replace("{app}", history.__name__) for arg in command]
    with sqlite_connections() as opened:
        result = cli("events", *args, "--database-url", database_url)
    assert result.exit_code in (0, 1), result.output
    assert opened and still_open(opened) == []  # closed, not left to the collector


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evt_broken", "--failed"], "either an event id or --failed"),
        ([], "either an event id or --failed"),
        (["evt_broken", "--app", "nocolon"], "write module:attribute"),
        (["evt_broken", "--app", "no_such_module_x:kit"], "cannot import 'no_such_module_x'"),
        (["evt_broken", "--app", "{shop}:nothing"], "has no attribute 'nothing'"),
        (["evt_broken", "--app", "{shop}:ran"], "names a list"),
    ],
)
def test_replay_refuses_bad_arguments_in_one_line(
    cli: Runner, history: Any, args: list[str], message: str
) -> None:
    args = [a.format(shop=history.__name__) for a in args]
    if "--app" not in args:
        args += ["--app", f"{history.__name__}:kit"]
    result = cli("events", "replay", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_replay_a_missing_event_exits_1(cli: Runner, history: Any) -> None:
    result = cli("events", "replay", "evt_ghost", "--app", f"{history.__name__}:kit")
    assert result.exit_code == 1
    assert "missing" in result.stdout


def test_debug_shows_the_traceback(cli: Runner, history: Any, database_url: str) -> None:
    from stripekit.cli._common import CLIError

    with pytest.raises(CLIError, match="no event evt_nope"):
        cli("--debug", "events", "show", "evt_nope", "--database-url", database_url)


def test_since_accepts_ages_and_dates() -> None:
    now = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == datetime(2024, 5, 10, 10, 0, tzinfo=UTC)
    assert parse_since("1w", now) == datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
    assert parse_since("2024-05-01T08:30:00+02:00", now).hour == 8
    assert parse_since("2024-05-01", now) == datetime(2024, 5, 1, tzinfo=UTC)


def test_a_dot_env_file_configures_the_command_and_the_app(
    cli: Runner, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli_harness import SECRET, deliver

    from stripekit import StripeKit, WebhookRegistry

    database = tmp_path / "from-dotenv.sqlite3"
    (tmp_path / ".env").write_text(f"STRIPEKIT_DATABASE_URL=sqlite:///{database}\n")
    monkeypatch.chdir(tmp_path)
    kit = StripeKit(
        secret_key="sk_test_1",
        webhook_secret=SECRET,
        webhooks=WebhookRegistry(),
        database_url=f"sqlite:///{database}",
    )
    deliver(kit, "customer.created", "evt_dotenv")
    assert "evt_dotenv" in cli("events", "list").stdout
    # Each command is a process of its own; here, forget what the last one loaded.
    monkeypatch.delenv("STRIPEKIT_DATABASE_URL")
    other = tmp_path / "other.env"
    other.write_text("STRIPEKIT_DATABASE_URL=sqlite:///elsewhere.sqlite3\n")
    elsewhere = cli("--env-file", str(other), "events", "list")
    assert elsewhere.exit_code == 1
    assert "no event store at sqlite:///elsewhere.sqlite3" in elsewhere.stderr
    assert not (tmp_path / "elsewhere.sqlite3").exists()  # reading made no database
    missing = cli("--env-file", str(tmp_path / "nope.env"), "events", "list")
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr


def test_list_fits_80_columns_without_cutting_ids_or_types(
    cli: Runner, shop: Any, database_url: str
) -> None:
    from cli_harness import deliver

    long_id = "evt_1QwErTyUiOpAsDfGhJkLzXcV"  # as long as Stripe's
    assert deliver(shop.kit, "customer.subscription.trial_will_end", long_id) == 200
    assert deliver(shop.kit, "invoice.payment_failed", "evt_1QfAiLeDbYtHeMaIlErXyZ12") == 500
    assert database_url.endswith("/events.sqlite3")  # in the working directory, so
    relative = "sqlite:///events.sqlite3"  # the title names it as a user would
    result = cli("events", "list", "--database-url", relative, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, result.stdout
    for whole in (long_id, "customer.subscription.trial_will_end", "evt_1QfAiLeDbYtHeMaIlErXyZ12"):
        assert any(whole in line for line in lines), whole
    assert any("the mailer is down" in line for line in lines)
    # Wide enough, one line per event.
    wide = cli("events", "list", "--database-url", database_url, env={"COLUMNS": "120"})
    row = next(line for line in wide.stdout.splitlines() if long_id in line)
    assert "customer.subscription.trial_will_end" in row and "unhandled" in row


@pytest.mark.parametrize("verb", [["list"], ["show", "evt_x"]])
def test_a_database_without_event_tables_is_refused_and_left_alone(
    cli: Runner, tmp_path: Any, verb: list[str]
) -> None:
    other = tmp_path / "app.sqlite3"
    with closing(sqlite3.connect(other)) as db, db:  # closed, and committed
        db.execute("CREATE TABLE users (id INTEGER)")
    result = cli("events", *verb, "--database-url", f"sqlite:///{other}")
    assert result.exit_code == 1
    assert "holds no stripekit event tables" in result.stderr
    with closing(sqlite3.connect(other)) as db:
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master")] == ["users"]
    missing = cli("events", *verb, "--database-url", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert missing.exit_code == 1 and "no such file here" in missing.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_sweep_retries_what_failed_under_the_budget_then_has_nothing_to_do(
    cli: Runner, history: Any
) -> None:
    name = history.__name__
    spent = cli("events", "sweep", "--app", f"{name}:kit", "--max-attempts", "1")
    assert spent.exit_code == 0, spent.output
    assert "nothing to sweep" in spent.stdout  # evt_broken's one attempt is its budget

    still_broken = cli("events", "sweep", "--app", f"{name}:kit")
    assert still_broken.exit_code == 1
    assert "evt_broken" in still_broken.stdout and "1 failed" in still_broken.stdout

    history.broken.clear()  # the mailer is back
    fixed = cli("events", "sweep", "--app", f"{name}:kit")
    assert fixed.exit_code == 0, fixed.output
    assert "1 processed" in fixed.stdout
    assert history.ran == ["evt_paid", "evt_broken"]
    assert cli("events", "sweep", "--app", f"{name}:kit").stdout.startswith("nothing to sweep")


def test_sweep_runs_queued_events_past_the_grace_period(
    cli: Runner, history: Any, database_url: str
) -> None:
    from stripekit import parse_event
    from stripekit.testing import event_body, make_event

    history.broken.clear()
    event = parse_event(event_body(make_event("checkout.session.completed", id="evt_waiting")))
    history.kit.store.record_queued(event)  # the broker was down when it came
    app = ["--app", f"{history.__name__}:webhooks", "--database-url", database_url]

    waiting = cli("events", "sweep", *app, "--max-attempts", "1")
    assert "nothing to sweep" in waiting.stdout  # within STRIPEKIT_SWEEP_GRACE

    swept = cli("events", "sweep", *app, "--grace", "0")
    assert swept.exit_code == 0, swept.output
    assert "evt_waiting" in swept.stdout and "evt_broken" in swept.stdout
    assert "2 processed" in swept.stdout
    assert history.kit.store.get("evt_waiting").status is EventStatus.PROCESSED
