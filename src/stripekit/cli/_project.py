"""Where the command's settings and event store come from: a plain app, or a Django project.

In a Django project (``DJANGO_SETTINGS_MODULE`` set, by the environment, ``.env``
or ``--django-settings``) the commands read ``settings.STRIPEKIT`` and use the
project's ``DjangoEventStore``, as the running site does. Elsewhere they read
the environment and open ``STRIPEKIT_DATABASE_URL``. Either way, reading never
creates tables: a database without stripekit's tables is an error that says
where the events are.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from stripekit._extras import needs_extra
from stripekit._settings import Settings

from ._common import CLIError, load_env_file, options

if TYPE_CHECKING:
    from stripekit._kit import StripeKit
    from stripekit.webhooks._store import EventStore

__all__ = ["django_kit", "event_store", "in_django", "load_settings", "open_billing_kit"]

# The tables each kind of store keeps its events in (stripekit_django's model's table).
_SQL_EVENTS_TABLE = "stripekit_events"
_DJANGO_EVENTS_TABLE = "stripekit_webhook_event"
# One of the billing state's tables in a Django project (its migration 0003 makes them).
_DJANGO_BILLING_TABLE = "stripekit_billing_customer"


def in_django(ctx: typer.Context) -> bool:
    """Whether this invocation runs beside a Django project (and Django is set up for it)."""
    opts = options(ctx)
    load_env_file(opts.env_file)
    module = opts.django_settings or os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        return False
    _setup_django(module)
    return True


def _setup_django(module: str) -> None:
    with needs_extra("--django-settings"):
        import django
        from django.apps import apps
        from django.core.exceptions import ImproperlyConfigured

    os.environ["DJANGO_SETTINGS_MODULE"] = module
    # As manage.py does: the project's packages import from its folder.
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        django.setup()
    except (ImportError, ImproperlyConfigured) as exc:
        raise CLIError(
            f"Django settings {module!r} do not load ({exc}): run from the project's folder "
            "(where manage.py is), or fix DJANGO_SETTINGS_MODULE / --django-settings"
        ) from None
    if not apps.is_installed("stripekit_django"):
        raise CLIError(
            f'"stripekit_django" is not in INSTALLED_APPS of {module}: add it (see docs/django.md)'
        )


def django_kit() -> StripeKit:
    """The Django project's StripeKit (its settings, store and handlers); Django is set up."""
    from stripekit_django.conf import get_kit

    return get_kit()


def load_settings(ctx: typer.Context, **flags: Any) -> Settings:
    """Settings from flags, then ``settings.STRIPEKIT`` in a Django project, then the environment.

    Flags left at ``None`` fall through.
    """
    given = {name: value for name, value in flags.items() if value is not None}
    if in_django(ctx):
        from stripekit_django.conf import kit_options

        return Settings(**{**kit_options(), **given})
    return Settings(**given)


@contextmanager
def event_store(ctx: typer.Context, database_url: str | None) -> Iterator[tuple[EventStore, str]]:
    """The event store to read, and how to name it; never one that would create tables.
    Closed when the command is done (a SQL store's pooled connections with it).

    In a Django project: the project's ``DjangoEventStore`` (unless ``--database-url``).
    """
    if database_url is None and in_django(ctx):
        yield _django_store()
        return
    from stripekit.store._factory import open_store

    settings = load_settings(ctx, database_url=database_url)
    url = settings.database_url.get_secret_value()
    label = _label(url)
    _check_sql_store(url, label)
    store = open_store(url)
    try:
        yield store, label
    finally:
        store.close()  # type: ignore[attr-defined]  # open_store's stores all have one


def open_billing_kit(ctx: typer.Context, database_url: str | None) -> tuple[StripeKit, str]:
    """A kit whose billing state is the app's, and how to name where it lives.

    In a Django project: the project's kit (its settings and models), unless
    ``--database-url``. Elsewhere: a kit from the settings, on the event store's
    database, which must hold the app's events already (the billing state's own
    tables are made there on first use, as the app itself would).
    """
    if database_url is None and in_django(ctx):
        return django_kit(), _django_label(_DJANGO_BILLING_TABLE)
    from stripekit._kit import StripeKit

    settings = load_settings(ctx, database_url=database_url)
    settings.require_secret_key()
    url = settings.database_url.get_secret_value()
    label = _label(url)
    if url.startswith("memory:"):
        raise CLIError(
            f"{label} is this command's own memory, not your app's: give the app's database "
            "(--database-url, STRIPEKIT_DATABASE_URL)"
        )
    _check_sql_store(url, label)
    return StripeKit(settings), label


def _django_store() -> tuple[EventStore, str]:
    from stripekit_django.store import DjangoEventStore

    return DjangoEventStore(), _django_label(_DJANGO_EVENTS_TABLE)


def _django_label(table: str) -> str:
    """How to name the project's database; an error if it lacks ``table`` (not migrated)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connections[DEFAULT_DB_ALIAS]
    label = f"the Django database ({connection.vendor}, {connection.settings_dict.get('NAME')})"
    if table not in connection.introspection.table_names():
        raise CLIError(f"{label} has no {table} table yet: run `python manage.py migrate`")
    return label


def _label(url: str) -> str:
    """The store URL without its password, fit for printing."""
    if url.startswith("memory:"):
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the event store"


def _check_sql_store(url: str, label: str) -> None:
    """Refuse a database that holds no stripekit event tables, saying where the events may be."""
    if url.startswith("memory:"):
        return
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # open_store says what is wrong with it
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        raise CLIError(
            f"no event store at {label} (no such file here, in {Path.cwd()}): run from your "
            "app's folder, or give --database-url / STRIPEKIT_DATABASE_URL"
        )
    try:
        engine = create_engine(parsed)
    except (ArgumentError, ImportError):
        return  # open_store says which driver is missing
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise CLIError(f"cannot read {label}: {reason}") from None
    finally:
        engine.dispose()
    if _SQL_EVENTS_TABLE in tables:
        return
    if _DJANGO_EVENTS_TABLE in tables:
        raise CLIError(
            f"{label} is a Django project's database (its events are in {_DJANGO_EVENTS_TABLE}): "
            "run with --django-settings yourproject.settings (or DJANGO_SETTINGS_MODULE set), "
            "or `python manage.py stripekit_events`"
        )
    raise CLIError(
        f"{label} holds no stripekit event tables ({_SQL_EVENTS_TABLE}): no event was recorded "
        "there yet, or your app records them elsewhere (--database-url, STRIPEKIT_DATABASE_URL)"
    )
