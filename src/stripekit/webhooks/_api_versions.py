"""Which Stripe API versions the events come in, against the one the kit speaks.

An event is rendered with the webhook endpoint's API version (or the
account's default), which may differ from ``STRIPEKIT_API_VERSION``, the version
the kit's own requests use and its handlers read. Such an event is still
processed (refusing it would lose it); the first of each version is logged as
a warning saying what to do, and every one is counted, for an operator's
metrics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._event import Event

from stripekit._stripe_api import pinned_api_version

__all__ = ["ApiVersions"]

logger = logging.getLogger("stripekit.webhooks")


class ApiVersions:
    """Counts the API versions of the events processed; warns once per unexpected one.

    Example:
        >>> versions = ApiVersions("2026-10-28.endive")
        >>> versions.expected
        '2026-10-28.endive'
        >>> versions.seen
        {}
    """

    def __init__(self, expected: str | None = None) -> None:
        self._expected = expected
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def expected(self) -> str:
        """The version the kit speaks (``STRIPEKIT_API_VERSION``, else stripe-python's)."""
        if self._expected is None:
            # Here, not at start: importing stripe is not free, and a webhook-only
            # process may never need it otherwise.
            self._expected = pinned_api_version()
        return self._expected

    @property
    def seen(self) -> Mapping[str, int]:
        """API version → how many events of it were processed (a copy)."""
        with self._lock:
            return dict(self._seen)

    def observe(self, event: Event) -> None:
        """Count the event's version; the first event of an unexpected one is logged."""
        version = event.api_version
        if version is None:
            return  # thin events carry none
        with self._lock:
            count = self._seen.get(version, 0)
            self._seen[version] = count + 1
        if count or version == self.expected:
            return
        logger.warning(
            "event %s (%s) is rendered with Stripe API version %s, but the kit speaks %s "
            "(STRIPEKIT_API_VERSION): it is processed, but its objects may lack fields or "
            "hold them elsewhere. Make the webhook endpoint's version match: add a second "
            "endpoint at %s, deploy, then remove the old one (docs/scale.md, API version "
            "upgrades). Logged once per version.",
            event.id,
            event.type,
            version,
            self.expected,
            self.expected,
        )
