"""open_store picks the implementation from a URL, and SQLAlchemy loads only when needed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stripekit import ConfigurationError, EventStore, MemoryEventStore, SQLEventStore, open_store


def test_memory_url_opens_a_memory_store():
    store = open_store("memory://")
    assert isinstance(store, MemoryEventStore)
    assert isinstance(store, EventStore)
    assert store.blocking is False


def test_database_url_opens_a_sql_store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    assert isinstance(store, SQLEventStore)
    assert isinstance(store, EventStore)
    assert store.blocking is True
    store.close()


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_url_is_a_configuration_error(url):
    with pytest.raises(ConfigurationError, match="is empty"):
        open_store(url)


@pytest.mark.parametrize("url", ["memory://somewhere", "memory://?x=1"])
def test_memory_url_takes_nothing_more(url):
    with pytest.raises(ConfigurationError, match="memory://"):
        open_store(url)


def test_bad_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="not a database URL"):
        open_store("postgresql://u:hunter2@host:port/db")


def test_importing_stripekit_does_not_import_sqlalchemy():
    code = (
        "import sys, stripekit\n"
        "store = stripekit.open_store('memory://')\n"
        "stripekit.EventStore, stripekit.ClaimOutcome\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy was imported'\n"
        "stripekit.open_store('sqlite://')\n"
        "assert 'sqlalchemy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
