"""``stripekit check``: is this app's Stripe setup complete and working? One line per check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.markup import escape

from stripekit._errors import StripekitError
from stripekit._settings import Settings

from ._common import CLIError, console
from ._project import load_settings

__all__ = ["check"]

# Stripe's own ping for event destinations: a real type that apps rarely handle.
_PING = "v2.core.event_destination.ping"


@dataclass
class _Line:
    ok: bool
    text: str
    warning: bool = False


class _Checks:
    """Runs checks in order; a check that cannot run (its input failed) is skipped."""

    def __init__(self) -> None:
        self.lines: list[_Line] = []

    def run(self, what: str, check: Callable[[], str]) -> bool:
        try:
            detail = check()
        except (StripekitError, OSError) as exc:
            self._print(_Line(False, f"{what}: {exc}"))
            return False
        self._print(_Line(True, f"{what}{': ' + detail if detail else ''}"))
        return True

    def fail(self, text: str) -> None:
        self._print(_Line(False, text))

    def passed(self, text: str) -> None:
        self._print(_Line(True, text))

    def warn(self, text: str) -> None:
        """Something to act on that does not stop the app working: it does not fail."""
        self._print(_Line(True, text, warning=True))

    def _print(self, line: _Line) -> None:
        self.lines.append(line)
        mark = "[yellow]![/]" if line.warning else "[green]✓[/]" if line.ok else "[red]✗[/]"
        console.print(f"{mark} {escape(line.text)}")

    @property
    def failed(self) -> bool:
        return any(not line.ok for line in self.lines)


def check(
    ctx: typer.Context,
    products: Path | None = typer.Option(
        None, "--products", "-p", help="The products file (default: STRIPEKIT_PRODUCTS)."
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help="Your app's webhook URL: check it answers a signed event and refuses a forged one.",
    ),
) -> None:
    """Check keys, the products file, prices and the webhook setup; exit 1 if anything fails."""
    checks = _Checks()
    settings: Settings | None = None

    def load() -> str:
        nonlocal settings
        settings = load_settings(ctx, products=products)
        mode = f"{settings.mode} mode" if settings.mode else "no key yet"
        return mode + (f", API at {settings.api_base}" if settings.api_base else "")

    if not checks.run("settings", load) or settings is None:
        raise typer.Exit(1)
    s: Settings = settings
    key_ok = checks.run("secret key", lambda: _secret_key(s))
    checks.run("publishable key", lambda: _publishable_key(s))
    if key_ok:
        key_ok = checks.run("Stripe accepts the key", lambda: _key_works(s))
    catalog_ok = checks.run("products file", lambda: _products(s))
    if key_ok and catalog_ok:
        checks.run("every price resolves in Stripe", lambda: _prices(s))
    if key_ok:
        _api_versions(checks, s, url)
    secret_ok = checks.run("webhook secret", lambda: _webhook_secret(s))
    if url is not None:
        if secret_ok:
            checks.run(f"{url} answers a signed event", lambda: _signed(url, s))
            checks.run(f"{url} refuses a forged signature", lambda: _forged(url))
        else:
            checks.fail(f"{url}: not checked without a webhook secret")
    if checks.failed:
        raise typer.Exit(1)


def _secret_key(settings: Settings) -> str:
    key = settings.require_secret_key()
    kind = "restricted key" if key.startswith("rk_") else "secret key"
    return f"{kind} ({settings.mode} mode)"


def _publishable_key(settings: Settings) -> str:
    if settings.publishable_key is None:
        raise CLIError(
            "STRIPE_PUBLISHABLE_KEY is not set: the pricing page and Stripe.js need it "
            "(pk_test_... or pk_live_...)"
        )
    return "set, same mode as the secret key"


def _key_works(settings: Settings) -> str:
    from stripekit._stripe_api import call_stripe, make_client

    client = make_client(settings)
    call_stripe(lambda: client.v1.prices.list({"limit": 1}))
    return "a prices listing answered"


def _products(settings: Settings) -> str:
    from stripekit.catalog._catalog import Catalog

    if settings.products is None:
        raise CLIError("STRIPEKIT_PRODUCTS is not set: point it at your products file")
    catalog = Catalog.load(settings.products)
    prices = sum(len(product.prices) for product in catalog)
    return f"{settings.products}: {len(catalog)} product(s), {prices} price(s)"


def _prices(settings: Settings) -> str:
    from stripekit._stripe_api import make_client
    from stripekit.catalog._catalog import Catalog
    from stripekit.catalog._prices import PriceResolver

    catalog = Catalog.load(settings.products or "")
    client = make_client(settings)
    resolved = PriceResolver(settings, lambda: client).resolve_all(catalog)
    return f"{len(resolved)} price id(s) found"


def _api_versions(checks: _Checks, settings: Settings, url: str | None) -> None:
    """The webhook endpoints' API version against the kit's (STRIPEKIT_API_VERSION)."""
    from stripekit._stripe_api import call_stripe, make_client

    expected = settings.stripe_api_version
    origin = "STRIPEKIT_API_VERSION" if settings.api_version else "stripe-python's, the default"
    client = make_client(settings)
    try:
        listed = call_stripe(lambda: client.v1.webhook_endpoints.list({"limit": 100}))
    except StripekitError as exc:
        checks.warn(f"API version {expected}: the webhook endpoints could not be read ({exc})")
        return
    endpoints = [e for e in listed.data if e.status == "enabled"]
    if url is not None:
        endpoints = [e for e in endpoints if e.url == url]
    if not endpoints:
        where = f" for {url}" if url is not None else ""
        checks.passed(f"API version {expected} ({origin}); no webhook endpoint{where} to compare")
        return
    for endpoint in endpoints:
        name = f"webhook endpoint {endpoint.id} ({endpoint.url})"
        version = endpoint.api_version
        if version == expected:
            checks.passed(f"{name}: API version {version}, the kit's ({origin})")
        elif version is None:
            checks.warn(
                f"{name} renders events with the account's default API version, which the "
                f"API does not show: make sure it is {expected} (Dashboard → Developers), or "
                f"replace the endpoint with one created with api_version={expected}"
            )
        else:
            checks.warn(
                f"{name} renders events with API version {version}, but the kit speaks "
                f"{expected} ({origin}): its events are processed, with a warning. Add a "
                f"second endpoint at {expected} and its secret to STRIPE_WEBHOOK_SECRET, "
                "deploy, then delete the old one (docs/scale.md, API version upgrades); or "
                f"set STRIPEKIT_API_VERSION={version} to speak the endpoint's version"
            )


def _webhook_secret(settings: Settings) -> str:
    secrets = settings.require_webhook_secrets()
    return f"{len(secrets)} secret(s)" + (" (rotation in progress)" if len(secrets) > 1 else "")


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    import httpx

    try:
        response = httpx.post(url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise CLIError(
            f"cannot reach it ({exc or type(exc).__name__}); is the app running?"
        ) from None
    return response.status_code, response.text[:200]


def _signed(url: str, settings: Settings) -> str:
    from stripekit.testing import event_body, make_thin_event, signed_headers

    body = event_body(make_thin_event(_PING, livemode=settings.livemode or False))
    secret = settings.require_webhook_secrets()[0]
    status, text = _post(url, body, signed_headers(body, secret))
    if not 200 <= status < 300:
        hint = (
            " (it does not verify with STRIPE_WEBHOOK_SECRET: is it the same secret?)"
            if status == 400
            else ""
        )
        raise CLIError(f"answered HTTP {status}{hint}: {text}")
    return f"HTTP {status}"


def _forged(url: str) -> str:
    from stripekit.testing import event_body, make_thin_event, signed_headers

    body = event_body(make_thin_event(_PING))
    status, _ = _post(url, body, signed_headers(body, "whsec_not_the_real_secret"))
    if status != 400:
        raise CLIError(
            f"answered HTTP {status} to a wrong signature: the route must verify signatures "
            "and answer 400"
        )
    return "HTTP 400"
