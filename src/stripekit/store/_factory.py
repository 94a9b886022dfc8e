"""open_store: an event store from a URL (``STRIPEKIT_DATABASE_URL``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripekit._errors import ConfigurationError

if TYPE_CHECKING:
    from stripekit.webhooks._store import EventStore

    from ._timeouts import StoreTimeouts

__all__ = ["open_store"]

MEMORY_URL = "memory://"


def open_store(url: str, *, timeouts: StoreTimeouts | None = None) -> EventStore:
    """The event store a URL names: ``memory://``, or any SQLAlchemy database URL.

    SQLAlchemy is imported only here, for a database URL. A plain
    ``postgresql://`` URL uses the psycopg 3 driver; ``timeouts`` bound how long
    it may keep a call waiting.

    Raises:
        ConfigurationError: the URL is empty or not a database URL, or its
            driver is not installed.

    Example:
        >>> open_store("memory://")
        <MemoryEventStore events=0>
        >>> open_store("sqlite:///shop.sqlite3")
        <SQLEventStore sqlite:///shop.sqlite3 prefix='stripekit_'>
    """
    url = url.strip()
    if not url:
        raise ConfigurationError(
            "the event store URL (STRIPEKIT_DATABASE_URL) is empty: give memory:// "
            "(tests), sqlite:///stripekit.sqlite3 or postgresql://user:password@host/db"
        )
    if url.partition("://")[0].lower() == "memory":
        if url.lower() != MEMORY_URL:
            raise ConfigurationError(
                f"the memory event store takes no host, path or options: write {MEMORY_URL}"
            )
        from ._memory import MemoryEventStore

        return MemoryEventStore()
    from ._sql import SQLEventStore

    return SQLEventStore(url, timeouts=timeouts)
