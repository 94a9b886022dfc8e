"""The error an adapter raises when its queue library is not installed."""

from __future__ import annotations

from stripekit._errors import MissingExtraError

__all__ = ["missing_extra"]


def missing_extra(module: str, extra: str) -> MissingExtraError:
    """``pip install "stripekit[extra]"`` in the message, for ``stripekit.queues.<extra>``."""
    return MissingExtraError(f"stripekit.queues.{extra}", module, extra)
