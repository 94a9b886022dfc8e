"""The claim's INSERT on SQLite, its parameters built straight from the event.

Every delivery's first write. Through ``new_row`` and ``DirectStatement`` it
built two dicts and walked every parameter to find its processor; here the
tuple is written in the compiled statement's own order, each value converted
as the column's type converts it (``test_claim_rows_are_what_sqlalchemy_binds``
holds the two to the same parameters).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Dialect, Table

from ._sql_direct import DirectStatement
from ._sql_schema import insert_or_nothing, sqlite_datetime

if TYPE_CHECKING:
    from stripekit.webhooks._event import Event

__all__ = ["CLAIM_COLUMNS", "ClaimInsert"]

CLAIM_COLUMNS = (
    "id",
    "type",
    "livemode",
    "account",
    "created",
    "received_at",
    "payload",
    "status",
    "attempts",
    "token",
    "lease_until",
    "holder",
)
"""The columns a claim writes, in the order the table declares them."""


class ClaimInsert:
    """``INSERT ... ON CONFLICT (id) DO NOTHING`` of a new claim (status processing)."""

    def __init__(self, events: Table, dialect: Dialect) -> None:
        direct = DirectStatement(insert_or_nothing("sqlite", events), dialect, CLAIM_COLUMNS)
        if direct.names != CLAIM_COLUMNS:
            raise RuntimeError(f"the claim INSERT binds {direct.names}, not {CLAIM_COLUMNS}")
        self.sql = direct.sql
        self.direct = direct
        """The same statement through SQLAlchemy's processors, for the tests."""

    def parameters(
        self, event: Event, now: datetime, token: str, until: datetime, holder: str
    ) -> tuple[Any, ...]:
        """What SQLAlchemy would bind for ``new_row(event, now)`` with this claim's columns."""
        return (
            event.id,
            event.type,
            1 if event.livemode else 0,  # Boolean on SQLite
            event.account,
            sqlite_datetime(event.created),
            sqlite_datetime(now),
            bytes(event.raw),
            "processing",
            1,
            token,
            sqlite_datetime(until),
            holder,
        )

    def run(
        self, driver: Any, event: Event, now: datetime, token: str, until: datetime, holder: str
    ) -> bool:
        """Insert the claim in the driver connection's transaction; whether it was new."""
        params = self.parameters(event, now, token, until, holder)
        return int(driver.execute(self.sql, params).rowcount) == 1
