"""``stripekit events``: the event log of any event store, replaying what failed, and
backfilling what never arrived."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from rich.box import SIMPLE_HEAD
from rich.json import JSON
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from stripekit.webhooks._dispatch import Dispatcher, WebhookResult
from stripekit.webhooks._registry import WebhookRegistry
from stripekit.webhooks._store import EventStatus, StoredEvent

from ._common import (
    CLIError,
    check_account_option,
    console,
    import_object,
    load_env_file,
    options,
)
from ._project import django_kit, event_store, in_django, load_settings

__all__ = ["events_app", "parse_since"]

events_app = typer.Typer(
    help="List, show, replay, sweep and backfill the webhook events your app recorded.",
    no_args_is_help=True,
)

_DATABASE_URL = typer.Option(
    None,
    "--database-url",
    help="Event store URL (default: a Django project's database, else STRIPEKIT_DATABASE_URL, "
    "else sqlite:///stripekit.sqlite3).",
)
_APP = typer.Option(
    None,
    "--app",
    help="Your handlers: module:attribute of a StripeKit or a WebhookRegistry "
    "(in a Django project: its handlers, by default).",
)
_STATUS_STYLE = {
    EventStatus.QUEUED: "cyan",
    EventStatus.PROCESSED: "green",
    EventStatus.UNHANDLED: "dim",
    EventStatus.FAILED: "bold red",
    EventStatus.PROCESSING: "yellow",
    EventStatus.IGNORED: "magenta",
}
_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Outcomes of a replay that leave work undone: the command exits non-zero.
_UNFINISHED = {"failed", "in_flight", "missing", "unavailable"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2h``, ``30m``, ``7d``, ``1w`` ago, or an ISO date/time (UTC unless it says).

    Example:
        >>> parse_since("2024-05-01").isoformat()
        '2024-05-01T00:00:00+00:00'
    """
    now = now or datetime.now(UTC)
    match = _RELATIVE.fullmatch(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CLIError(
            f"--since {text!r}: give a time ago (30m, 2h, 7d, 1w) or a date (2024-05-01)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _status(status: EventStatus) -> str:
    return f"[{_STATUS_STYLE.get(status, '')}]{status.value}[/]"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _first_line(error: str | None, width: int = 60) -> str:
    if not error:
        return ""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    # A traceback's last line says what went wrong; keep the handler's name too.
    text = f"{lines[0].split(':', 1)[0]}: {lines[-1].strip()}" if len(lines) > 1 else lines[0]
    return text if len(text) <= width else text[: width - 1] + "…"


@events_app.command("list")
def list_events(
    ctx: typer.Context,
    type: str | None = typer.Option(
        None, "--type", "-t", help="Only this event type (e.g. invoice.paid)."
    ),
    status: EventStatus | None = typer.Option(None, "--status", "-s", help="Only this status."),
    since: str | None = typer.Option(
        None, "--since", help="Received since: 30m, 2h, 7d, 1w, or a date (2024-05-01)."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most this many, newest first."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """List recorded events, newest first."""
    with event_store(ctx, database_url) as (store, label):
        rows = store.list(
            type=type,
            status=status,
            since=parse_since(since) if since is not None else None,
            limit=limit,
        )
    if not rows:
        console.print(f"no events recorded in {label} match")
        return
    console.print(_table(rows, label, console.width))
    # Errors below the table, one line each: a table cell would cut them short.
    for row in rows:
        if row.status is EventStatus.FAILED and row.last_error:
            width = max(40, console.width - len(row.id) - 2)
            console.print(f"[red]{row.id}[/]: {escape(_first_line(row.last_error, width=width))}")


def _table(rows: Sequence[StoredEvent], label: str, width: int) -> Table:
    """The events as a table that fits ``width``: the type goes under the id when narrow."""
    any_live = any(row.livemode for row in rows)
    id_width = max(len(row.id) for row in rows)
    type_width = max(len(row.type) for row in rows)
    # Columns and the two spaces between each: status 10, tries 5, received 11, mode 4.
    wide = id_width + type_width + 10 + 5 + 11 + (4 + 2 if any_live else 0) + 2 * 4 <= width
    table = Table(
        title=f"{len(rows)} event(s) in {label}",
        title_justify="left",
        box=SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    # Ids and types are what a reader copies into the next command: never cut them.
    if wide:
        table.add_column("id", no_wrap=True, min_width=id_width)
        table.add_column("type", no_wrap=True, min_width=type_width)
    else:
        table.add_column("id / type", no_wrap=True, min_width=max(id_width, type_width + 2))
    table.add_column("status", no_wrap=True)
    table.add_column("tries", no_wrap=True, justify="right")
    table.add_column("received (UTC)", no_wrap=True)
    if any_live:
        table.add_column("mode", no_wrap=True)
    for row in rows:
        cells = [row.id, row.type] if wide else [f"{row.id}\n  [dim]{escape(row.type)}[/]"]
        cells += [_status(row.status), str(row.attempts)]
        cells.append(row.received_at.astimezone(UTC).strftime("%m-%d %H:%M"))
        if any_live:
            cells.append("live" if row.livemode else "test")
        table.add_row(*cells)
    return table


@events_app.command("show")
def show_event(
    ctx: typer.Context,
    event_id: str = typer.Argument(..., help="The event id (evt_...)."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Show one recorded event: its record and its payload, pretty-printed."""
    with event_store(ctx, database_url) as (store, label):
        row = store.get(event_id)
    if row is None:
        raise CLIError(f"no event {event_id} in {label}: `stripekit events list` shows what is")
    _print_record(row)
    try:
        console.print(JSON(row.payload.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        console.print(repr(row.payload))


def _print_record(row: StoredEvent) -> None:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for name, value in (
        ("id", row.id),
        ("type", row.type),
        ("status", _status(row.status)),
        ("attempts", str(row.attempts)),
        ("livemode", str(row.livemode).lower()),
        ("account", row.account or ""),
        ("created", _when(row.created)),
        ("received", _when(row.received_at)),
        ("processed", _when(row.processed_at)),
    ):
        table.add_row(name, value)
    console.print(table)
    if row.last_error:
        console.print("[bold]last error[/]")
        console.print(row.last_error, markup=False)


@events_app.command("replay")
def replay_events(
    ctx: typer.Context,
    event_id: str | None = typer.Argument(None, help="The event to replay (evt_...)."),
    app: str | None = _APP,
    failed: bool = typer.Option(False, "--failed", help="Replay every failed event."),
    force: bool = typer.Option(
        False, "--force", help="Replay even if already processed, unhandled or ignored."
    ),
    limit: int = typer.Option(1000, "--limit", min=1, help="With --failed: at most this many."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Run your handlers again on recorded events (one by id, or every failed one).

    The recorded payload was verified when it arrived; no webhook secret is needed.
    Exits 1 if any replay did not end processed.
    """
    if (event_id is None) == (not failed):
        raise CLIError("give either an event id or --failed (not both)")
    with _dispatcher(ctx, _handlers(ctx, app), database_url) as (dispatcher, label):
        if event_id is not None:
            results = [dispatcher.replay(event_id, force=force)]
        else:
            rows = dispatcher.store.list(status=EventStatus.FAILED, limit=limit)
            if not rows:
                console.print(f"no failed events in {label}")
                return
            results = []
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("replaying", total=len(rows))
                # Oldest first: the order Stripe sent them in.
                for row in reversed(rows):
                    results.append(dispatcher.replay(row.id, force=force))
                    progress.advance(task)
    _print_results(results)
    if any(result.outcome in _UNFINISHED for result in results):
        raise typer.Exit(1)


@events_app.command("sweep")
def sweep_events(
    ctx: typer.Context,
    app: str | None = _APP,
    grace: float | None = typer.Option(
        None,
        "--grace",
        min=0,
        help="Seconds an event may wait queued (or processing) before the sweep runs it "
        "(default STRIPEKIT_SWEEP_GRACE, 300).",
    ),
    max_attempts: int | None = typer.Option(
        None,
        "--max-attempts",
        min=1,
        help="Leave alone events whose handlers started this many times "
        "(default STRIPEKIT_SWEEP_MAX_ATTEMPTS, 5).",
    ),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many events."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Run the events left behind: queued too long, failed under the retry budget, or
    processing past their worker's lease. Safe from several machines at once.

    The handlers run here, in this process (the store's claim lets one worker run each
    event). Run it on a schedule (cron, Celery beat) in deferred mode. Exits 1 if an
    event failed again.
    """
    from stripekit._settings import Settings
    from stripekit.webhooks._sweep import sweep

    settings = Settings()
    with _dispatcher(ctx, _handlers(ctx, app), database_url) as (dispatcher, label):
        report = sweep(
            dispatcher,
            grace=settings.sweep_grace if grace is None else grace,
            max_attempts=settings.sweep_max_attempts if max_attempts is None else max_attempts,
            limit=limit,
        )
    if not report.results:
        console.print(f"nothing to sweep in {label}")
        return
    _print_results(report.results, title="sweep")
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts.items()))
    console.print(f"swept {len(report.results)} event(s): {summary}")
    if not report.ok:
        raise typer.Exit(1)


def _handlers(ctx: typer.Context, app: str | None) -> Any:
    """The StripeKit or WebhookRegistry whose handlers to run."""
    load_env_file(options(ctx).env_file)  # before the app reads its settings
    if app is not None:
        return import_object(app)
    if in_django(ctx):
        return django_kit()
    raise CLIError(
        "give --app module:attribute (your StripeKit or WebhookRegistry), or run in your "
        "Django project (DJANGO_SETTINGS_MODULE or --django-settings)"
    )


@contextmanager
def _dispatcher(
    ctx: typer.Context, target: Any, database_url: str | None, client: Any = None
) -> Iterator[tuple[Dispatcher, str]]:
    """The app kit's own dispatcher (left open: the app's), or one on the store the
    command opens (closed with it when the command is done)."""
    from stripekit._kit import StripeKit

    if isinstance(target, StripeKit):
        if database_url is None:
            yield target.dispatcher, repr(target.store)
            return
        registry = target.webhooks
    elif isinstance(target, WebhookRegistry):
        registry = target
    else:
        raise CLIError(
            f"--app names a {type(target).__name__}; point it at your StripeKit or "
            "WebhookRegistry (module:attribute)"
        )
    factory = (lambda: client) if client is not None else None
    with event_store(ctx, database_url) as (store, label):
        dispatcher = Dispatcher(store, registry, client_factory=factory)
        try:
            yield dispatcher, label
        finally:
            dispatcher.close()


def _print_results(results: list[WebhookResult], title: str = "replay") -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("outcome")
    table.add_column("detail")
    for result in results:
        style = "green" if result.outcome in ("processed", "unhandled") else "red"
        if result.outcome == "duplicate":
            style = "dim"
        detail = {
            "duplicate": "already done; --force runs it again",
            "in_flight": "another worker holds it; try again when its lease ends",
            "failed": str(result.error or "a handler raised"),
            "unavailable": str(result.error or "the event store could not be reached"),
        }.get(result.outcome, str(result.body.get("error", "")))
        table.add_row(str(result.event_id), f"[{style}]{result.outcome}[/]", detail)
    console.print(table)


@events_app.command("backfill")
def backfill_events(
    ctx: typer.Context,
    since: str = typer.Option(
        ...,
        "--since",
        help="Events created since: 90m, 12h, 3d (30d at most: what Stripe keeps), or a date.",
    ),
    app: str | None = typer.Option(
        None,
        "--app",
        help="Your handlers: module:attribute of a StripeKit or a WebhookRegistry "
        "(in a Django project: its handlers, by default).",
    ),
    types: list[str] = typer.Option(
        [], "--type", "-t", help="Only this event type (repeat for several, 20 at most)."
    ),
    account: str | None = typer.Option(
        None, "--account", help="A connected account's events (acct_..., Connect)."
    ),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Run the events Stripe listed since --since that your store never recorded.

    Reads Stripe's events list (the last 30 days) and feeds each event the store
    lacks through the same claim and handlers as a delivery, oldest first: safe
    to run any time, beside live deliveries. Needs STRIPE_SECRET_KEY. Exits 1 if
    any handler failed.
    """
    from stripekit.webhooks._backfill import BackfillReport, backfill

    check_account_option(account)
    load_env_file(options(ctx).env_file)
    moment = parse_since(since)
    target = _handlers(ctx, app)
    client, livemode = _stripe_client(ctx, target)
    with (
        _dispatcher(ctx, target, database_url, client) as (dispatcher, _),
        console.status(f"reading Stripe's events since {_when(moment)} UTC"),
    ):
        report: BackfillReport = backfill(
            dispatcher, client, since=moment, types=types, stripe_account=account,
            livemode=livemode,
        )  # fmt: skip
    console.print(str(report))
    unfinished = [r for r in report.results if r.outcome not in ("processed", "unhandled")]
    if unfinished:
        _print_results(unfinished)
    if report.failed:
        raise typer.Exit(1)


def _stripe_client(ctx: typer.Context, target: Any) -> tuple[Any, bool | None]:
    """The kit's own client, or one from the settings (STRIPE_SECRET_KEY, STRIPE_API_BASE)."""
    from stripekit._kit import StripeKit
    from stripekit._stripe_api import make_client

    if isinstance(target, StripeKit):
        return target.client, target.settings.livemode
    settings = load_settings(ctx)
    return make_client(settings), settings.livemode
