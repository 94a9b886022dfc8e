"""What the CLI tests share: the runner, a user's app module, and delivering events to it."""

from __future__ import annotations

import textwrap
from typing import Any

from typer.testing import CliRunner

from stripekit import StripeKit
from stripekit.cli import app
from stripekit.testing import signed_event

SECRET = "whsec_cli_tests"

# A user's module: handlers that record what ran, one that fails until told not to.
APP_MODULE = textwrap.dedent(
    """
    from stripekit import StripeKit, WebhookRegistry

    webhooks = WebhookRegistry()
    ran = []
    broken = {"invoice.payment_failed": True}


    @webhooks.on("checkout.session.completed", "invoice.payment_failed")
    def record(event):
        if broken.get(event.type):
            raise RuntimeError("the mailer is down")
        ran.append(event.id)


    # The billing state off: these apps test the event log, whose events name no
    # object the Stripe API (not reachable from the tests) could be asked about.
    kit = StripeKit(
        secret_key="sk_test_cli", webhook_secret="{secret}", webhooks=webhooks,
        database_url="{database_url}", billing=False,
    )
    """
)


class Runner:
    """Runs ``stripekit ...`` in-process and keeps stdout and stderr apart."""

    def __init__(self) -> None:
        self._runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str | None] | None = None) -> Any:
        # A wide terminal, so that assertions need not follow rich's line wrapping; not
        # in a Django project (pytest-django sets DJANGO_SETTINGS_MODULE) unless a test says.
        env = {"COLUMNS": "200", "DJANGO_SETTINGS_MODULE": None, **(env or {})}
        return self._runner.invoke(app, list(args), env=env, catch_exceptions=False)


def deliver(kit: StripeKit, event_type: str, event_id: str, **fields: Any) -> int:
    obj = {"id": f"obj_{event_id}", "object": event_type.rsplit(".", 1)[0], **fields}
    body, headers = signed_event(event_type, obj, secret=SECRET, id=event_id)
    return kit.handle_webhook(body, headers).status
