"""How long a database-backed event store may keep a delivery waiting."""

from __future__ import annotations

from dataclasses import dataclass

from stripekit._errors import ConfigurationError

__all__ = ["StoreTimeouts"]


@dataclass(frozen=True, slots=True)
class StoreTimeouts:
    """How long the event store may wait on PostgreSQL, in seconds.

    All under the ~15 s Stripe waits for an answer: an outage is a quick 503
    (Stripe retries later), never a delivery hanging until Stripe gives up.

    Attributes:
        connect: to open a connection (libpq counts whole seconds, at least 2),
            and to wait for a free one in the pool.
        statement: for one statement to finish (PostgreSQL's ``statement_timeout``).
        lock: for a row or table lock (``lock_timeout``), e.g. a migration or a
            ``LOCK TABLE`` by hand.
    """

    connect: float = 5.0
    statement: float = 5.0
    lock: float = 3.0

    def __post_init__(self) -> None:
        for name in ("connect", "statement", "lock"):
            value = getattr(self, name)
            if not 0 < value <= 600:
                raise ConfigurationError(
                    f"the event store's {name} timeout must be between 0 and 600 seconds, "
                    f"not {value!r}"
                )

    @property
    def deadline(self) -> float:
        """The longest one store call may take, all waits included."""
        return self.connect + self.statement + 1.0
