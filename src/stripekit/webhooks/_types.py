"""Type aliases of the webhook pipeline: what a handler is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from ._event import Event

__all__ = ["AsyncHandler", "Handler", "SyncHandler"]

SyncHandler: TypeAlias = Callable[["Event"], object]
AsyncHandler: TypeAlias = Callable[["Event"], Awaitable[object]]
Handler: TypeAlias = SyncHandler | AsyncHandler
"""A webhook handler: takes the Event, returns nothing of interest; sync or async."""
