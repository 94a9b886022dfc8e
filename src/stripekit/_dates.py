"""Dates as the shop's pages write them: "March 1, 2027" (UTC, the day Stripe bills on)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_day"]


def format_day(moment: datetime | int) -> str:
    """A datetime or a Unix timestamp as a day a buyer reads.

    Example:
        >>> format_day(1796083200)
        'December 1, 2026'
    """
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%B} {moment.day}, {moment.year}"
