"""``python -m {{ cookiecutter.project_slug }}``: the shop, and the local Stripe emulator when .env points at it."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from urllib.parse import urlsplit

from . import ROOT, SHOP_NAME, load_env


def main() -> None:
    exported = "STRIPEKIT_BASE_URL" in os.environ
    load_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SHOP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SHOP_PORT", "8000")))
    args = parser.parse_args()
    where = urlsplit(os.environ.get("STRIPE_API_BASE", ""))
    local_stripe = where.hostname in ("127.0.0.1", "localhost")
    if local_stripe and not exported:
        # On this machine the shop's pages are where it is served (.env's value is
        # for a deployment, which talks to Stripe and keeps it).
        os.environ["STRIPEKIT_BASE_URL"] = f"http://{args.host}:{args.port}"
    with ExitStack() as stack:
        if local_stripe:
            stack.enter_context(_emulator(where.hostname, where.port or 12111, args.host, args.port))
        _serve(args.host, args.port)


def _emulator(host: str, port: int, app_host: str, app_port: int):  # noqa: ANN202
    """The emulator in this process, its webhooks signed with .env's secret, products synced."""
    from contextlib import contextmanager

    import stripe

    from stripekit import Catalog, apply_sync, plan_sync, read_account
    from stripekit.emulator import run_emulator

    @contextmanager
    def running():  # noqa: ANN202
        with run_emulator(host, port, retry_delays=(1, 2, 4, 8, 16)) as emulator:
            emulator.add_webhook_endpoint(
                f"http://{app_host}:{app_port}/stripe/webhook",
                secret=os.environ["STRIPE_WEBHOOK_SECRET"],
            )
            client = stripe.StripeClient(
                os.environ["STRIPE_SECRET_KEY"], base_addresses={"api": emulator.api_base}
            )
            catalog = Catalog.load(ROOT / "products.toml")
            apply_sync(client, plan_sync(catalog, read_account(client, catalog)))
            print(f"Stripe emulator: {emulator.url} (pay with 4242 4242 4242 4242)", flush=True)
            yield emulator

    return running()


def _serve(host: str, port: int) -> None:
    print(f"{SHOP_NAME}: http://{host}:{port}/", flush=True)
{%- if cookiecutter.framework == "fastapi" %}
    import uvicorn

    from .app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
{%- else %}
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{{ cookiecutter.project_slug }}.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("runserver", f"{host}:{port}", use_reloader=False)
{%- endif %}


if __name__ == "__main__":
    main()
