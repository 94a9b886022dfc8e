"""``stripekit billing sync``: repair the app's billing state from what Stripe has.

Events are the billing state's input, so it can only be as right as the events
that reached it (a database restored from a backup, an endpoint down past
Stripe's retries, the billing state turned on in an app that had customers
already). ``sync`` reads Stripe (subscriptions, recent checkouts, invoices,
charges and refunds) and writes it over the mirror, printing each change.
``--account acct_...`` reads a connected account's (Connect) and writes that
account's rows; one account per run.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from stripekit._stripe_api import call_stripe
from stripekit.billing._repair import repair

from ._common import CLIError, check_account_option, console
from ._events import parse_since
from ._project import open_billing_kit

__all__ = ["billing_app"]

billing_app = typer.Typer(
    help="Repair your app's billing state (who has paid for what) from Stripe.",
    no_args_is_help=True,
)


@billing_app.command("sync")
def sync(
    ctx: typer.Context,
    user: str | None = typer.Option(
        None, "--user", help="Only this user's customers (your app's user reference)."
    ),
    customer: str | None = typer.Option(
        None, "--customer", help="Only this Stripe customer (cus_...); links it to its user."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Only checkouts, invoices, charges and refunds created since: 30d, 1w, or a date "
        "(subscriptions are always read).",
    ),
    account: str | None = typer.Option(
        None,
        "--account",
        help="A connected account's billing (acct_..., Connect), read with Stripe-Account; "
        "one account per run (default: the platform's own).",
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Your app's database (default: a Django project's, else STRIPEKIT_DATABASE_URL).",
    ),
) -> None:
    """Read Stripe and write what it has over the billing state; print what changed.

    Without --user or --customer, everything Stripe lists is read. Running it
    twice changes nothing the second time. With --account, a connected
    account's objects are read and written as that account's (run it once per
    account); without it, the platform's own.
    """
    if user is not None and customer is not None:
        raise CLIError("give --user or --customer, not both")
    if customer is not None and not customer.startswith("cus_"):
        raise CLIError(f"--customer {customer!r}: give a Stripe customer id (cus_...)")
    if user is not None and not user.strip():
        raise CLIError("--user is empty: give your app's reference for the user")
    check_account_option(account)
    when = parse_since(since) if since is not None else None
    kit, label = open_billing_kit(ctx, database_url)
    try:
        mirror = kit.billing_mirror
        with console.status("reading Stripe"):
            changes = call_stripe(
                lambda: repair(
                    mirror, kit.client, user=user, customer=customer, since=when, account=account
                )
            )
    finally:
        close = getattr(kit.store, "close", None)  # the SQL store's connections
        if close is not None:
            close()
    for change in changes:
        console.print(escape(str(change)))
    state = "the billing state" + (
        f" of user {user}" if user else f" of customer {customer}" if customer else ""
    )
    if account is not None:
        state += f" {'in' if user or customer else 'of'} account {account}"
    if changes:
        console.print(f"[green]✓[/] {len(changes)} change(s) to {escape(state)} in {label}")
    else:
        console.print(f"[green]✓[/] {escape(state)} in {label} matches Stripe")
