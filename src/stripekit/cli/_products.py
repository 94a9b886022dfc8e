"""``stripekit products sync|pull``: one catalog, in the products file and in Stripe."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from stripekit._errors import SyncError
from stripekit._settings import Settings
from stripekit.catalog._catalog import Catalog
from stripekit.catalog._sync import SyncAction, SyncKind, SyncPlan, apply_sync, plan_sync
from stripekit.catalog._sync_state import read_account

from ._common import CLIError, check_account_option, console
from ._project import load_settings

__all__ = ["products_app"]

products_app = typer.Typer(
    help="Make Stripe match your products file (sync), or write one from Stripe (pull).",
    no_args_is_help=True,
)

_PRODUCTS = typer.Option(
    None, "--products", "-p", help="The products file (default: STRIPEKIT_PRODUCTS)."
)
_ACCOUNT = typer.Option(
    None,
    "--account",
    help="A connected account (acct_..., Connect): its products and prices, not the platform's.",
)
_STYLE = {
    SyncKind.CREATE_PRODUCT: "green",
    SyncKind.CREATE_PRICE: "green",
    SyncKind.UPDATE_PRODUCT: "yellow",
    SyncKind.UPDATE_PRICE: "yellow",
    SyncKind.REPLACE_PRICE: "cyan",
    SyncKind.ARCHIVE_PRICE: "red",
    SyncKind.ARCHIVE_PRODUCT: "red",
}


def _client_settings(ctx: typer.Context, products: Path | None = None) -> Settings:
    settings = load_settings(ctx, products=products)
    settings.require_secret_key()
    return settings


@products_app.command("sync")
def sync(
    ctx: typer.Context,
    products: Path | None = _PRODUCTS,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing."),
    archive: bool = typer.Option(
        False, "--archive", help="Also archive what the file dropped (sync never deletes)."
    ),
    account: str | None = _ACCOUNT,
) -> None:
    """Make Stripe's products and prices match the products file.

    Products are matched by their key (kept in product metadata), prices by
    lookup_key. A changed amount or interval makes a new price and moves the
    lookup key to it; the old price is archived. Running it twice changes
    nothing the second time. Products it does not manage are left alone.
    With --account, the same in a connected account (Stripe-Account on each call).
    """
    from stripekit._stripe_api import make_client

    settings = _client_settings(ctx, products)
    if settings.products is None:
        raise CLIError("no products file: pass --products products.toml or set STRIPEKIT_PRODUCTS")
    check_account_option(account)
    catalog = Catalog.load(settings.products)
    client = make_client(settings)
    with console.status("reading products and prices from Stripe"):
        state = read_account(client, catalog, stripe_account=account)
    plan = plan_sync(catalog, state, archive=archive)
    _print_plan(plan, settings)
    where = account or "Stripe"
    if plan.in_sync:
        console.print(f"[green]✓[/] {where} matches {settings.products}: nothing to do")
        return
    if dry_run:
        console.print(f"dry run: {len(plan.actions)} change(s) planned, nothing written")
        return
    # Transient: the bar goes when done, leaving the plan and the result.
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("applying", total=len(plan.actions))
        try:
            apply_sync(client, plan, on_action=lambda _: progress.advance(task))
        except SyncError as exc:
            progress.stop()
            _print_partial(exc)
            raise
    into = f" in {account}" if account else ""
    console.print(f"[green]✓[/] {len(plan.actions)} change(s) applied{into}")


def _print_plan(plan: SyncPlan, settings: Settings) -> None:
    if plan.actions:
        where = f", account {plan.stripe_account}" if plan.stripe_account else ""
        table = Table(title=f"plan ({settings.mode} mode{where})", title_justify="left")
        table.add_column("action", no_wrap=True)
        table.add_column("product", no_wrap=True)
        table.add_column("what")
        table.add_column("why")
        for action in plan.actions:
            table.add_row(
                f"[{_STYLE[action.kind]}]{action.kind.value}[/]",
                action.product,
                escape(action.target),
                escape(action.reason),
            )
        console.print(table)
    for action in plan.dropped:
        console.print(
            f"[dim]kept[/] {action.kind.value.replace('archive ', '')} {escape(action.target)} "
            f"({action.product}): {action.reason}; pass --archive to archive it"
        )
    for product_id, name in plan.unmanaged:
        console.print(f"[dim]unmanaged[/] {product_id} {escape(name)}: not in the file, left alone")


def _print_partial(error: SyncError) -> None:
    def line(action: SyncAction) -> str:
        return f"{action.kind.value} {action.product} {action.target}"

    for action in error.done:
        console.print(f"[green]done[/]     {escape(line(action))}")
    if error.failed is not None:
        console.print(f"[red]failed[/]   {escape(line(error.failed))}")
    for action in error.remaining:
        console.print(f"[dim]not done[/] {escape(line(action))}")
    console.print("run `stripekit products sync` again to finish: nothing is written twice")


@products_app.command("pull")
def pull(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("products.toml"), "--out", "-o", help="Where to write the products file ('-': stdout)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    account: str | None = _ACCOUNT,
) -> None:
    """Write a products file from the products and prices already in Stripe.

    Then `stripekit products sync` with that file changes nothing.
    """
    from stripekit._stripe_api import make_client
    from stripekit.catalog._pull import catalog_from_account, catalog_to_toml

    settings = _client_settings(ctx)
    check_account_option(account)
    to_stdout = str(out) == "-"
    if not to_stdout and out.exists() and not force:
        raise CLIError(f"{out} exists: pass --force to overwrite it, or --out another file")
    client = make_client(settings)
    with console.status("reading products and prices from Stripe"):
        state = read_account(client, every_product=True, stripe_account=account)
    pulled = catalog_from_account(state)
    for problem in pulled.skipped:
        typer.echo(f"note: {problem}", err=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = f", account {account}" if account else ""
    header = (
        f"Pulled from Stripe ({settings.mode} mode{where}) by `stripekit products pull`, {stamp}."
    )
    text = catalog_to_toml(pulled.catalog, header=header)
    if to_stdout:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"[green]✓[/] wrote {len(pulled.catalog)} product(s) to {out}")
