"""``stripekit webhooks``: trigger an event through the emulator's real flows, send a signed
synthetic one to an app, list event types."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import typer
from rich.json import JSON

from stripekit.webhooks._event_types import check_pattern, known_event_types

from ._common import CLIError, console
from ._project import load_settings

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    help="Trigger events in the emulator; send test events to your app; list event types.",
    no_args_is_help=True,
)


@webhooks_app.command("trigger")
def trigger(
    ctx: typer.Context,
    event_type: str = typer.Argument(..., help="The event type, e.g. invoice.payment_failed."),
    override: list[str] = typer.Option(
        [],
        "--override",
        help="STEP:PATH=VALUE or PATH=VALUE: a param of one of the flow's requests, e.g. "
        "checkout_session:metadata.order=42 (repeat for several).",
    ),
    api_base: str | None = typer.Option(
        None,
        "--api-base",
        help="The emulator to drive (default: STRIPE_API_BASE, else http://127.0.0.1:12111).",
    ),
) -> None:
    """Make the emulator go through the real flow that sends EVENT_TYPE, as `stripe trigger` does.

    Products, a Checkout Session paid on the hosted page, a renewal that fails...:
    the events that follow are consistent and every object they name can be
    fetched. The emulator delivers them to its webhook endpoints (start it with
    --forward-to your app). Prints the events made, oldest first.
    """
    from stripekit.emulator import DEFAULT_PORT
    from stripekit.emulator._trigger import Override, TriggerError
    from stripekit.emulator._trigger import trigger as run_flow

    if "*" in event_type or "?" in event_type:
        raise CLIError(
            f"{event_type!r} is a pattern; trigger one event type (see `webhooks list-types`)"
        )
    check_pattern(event_type)
    base = api_base or load_settings(ctx).api_base or f"http://127.0.0.1:{DEFAULT_PORT}"
    try:
        made = run_flow(base, event_type, [Override.parse(text) for text in override])
    except TriggerError as exc:
        raise CLIError(str(exc)) from None
    for event in made:
        style = "bold green" if event["type"] == event_type else "dim"
        obj = event["data"]["object"]
        console.print(f"[{style}]{event['type']:<45}[/] {event['id']}  {obj.get('id', '')}")
    console.print(
        f"{len(made)} events; the emulator at {base} delivers them to its webhook endpoints"
    )


@webhooks_app.command("send")
def send(
    ctx: typer.Context,
    event_type: str = typer.Argument(..., help="The event type, e.g. checkout.session.completed."),
    to: str = typer.Option(
        ..., "--to", help="Your webhook URL, e.g. http://127.0.0.1:8000/stripe/webhook."
    ),
    secret: str | None = typer.Option(
        None,
        "--secret",
        help="Signing secret (whsec_...); default: the first of STRIPE_WEBHOOK_SECRET.",
    ),
    object_file: Path | None = typer.Option(
        None,
        "--object",
        help="A JSON file with the event's data.object (default: a Stripe-shaped sample).",
        exists=True,
        dir_okay=False,
    ),
    livemode: bool = typer.Option(False, "--livemode", help="Mark the event as a live one."),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.1, help="Seconds to wait for the answer."
    ),
) -> None:
    """Build a realistic event of TYPE, sign it like Stripe and post it to --to.

    Prints your app's answer; exits 1 unless it is a 2xx.
    """
    import httpx

    from stripekit.testing import event_body, make_event, signed_headers

    if "*" in event_type or "?" in event_type:
        raise CLIError(
            f"{event_type!r} is a pattern; send one event type (see `webhooks list-types`)"
        )
    check_pattern(event_type)
    if not to.startswith(("http://", "https://")):
        raise CLIError(f"--to {to!r}: give the full URL of your webhook route (http://...)")
    signing_secret = secret or _configured_secret(ctx)
    event = make_event(event_type, _object(object_file), livemode=livemode)
    body = event_body(event)
    headers = {
        **signed_headers(body, signing_secret),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    try:
        response = httpx.post(to, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise CLIError(f"cannot reach {to}: {exc or type(exc).__name__}") from None
    style = "green" if response.is_success else "red"
    console.print(f"sent {event_type} {event['id']} → [{style}]HTTP {response.status_code}[/]")
    if response.content:
        try:
            console.print(JSON(response.text))
        except json.JSONDecodeError:
            console.print(response.text[:2000], markup=False)
    if not response.is_success:
        raise typer.Exit(1)


def _configured_secret(ctx: typer.Context) -> str:
    settings = load_settings(ctx)
    if not settings.webhook_secret:
        raise CLIError(
            "no signing secret: pass --secret whsec_... or set STRIPE_WEBHOOK_SECRET "
            "to the secret your app verifies with"
        )
    return settings.webhook_secret[0].get_secret_value()


def _object(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CLIError(f"--object {path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("object"), str):
        raise CLIError(f"--object {path}: must hold one Stripe object with an 'object' field")
    return data


@webhooks_app.command("list-types")
def list_types(
    pattern: str = typer.Argument("*", help="A type or wildcard, e.g. 'customer.subscription.*'."),
) -> None:
    """List the event types Stripe sends (as stripe-python knows them), filtered by PATTERN."""
    if pattern != "*":
        check_pattern(pattern)
    types = sorted(t for t in known_event_types() if fnmatch.fnmatchcase(t, pattern))
    for event_type in types:
        console.print(event_type)
