"""Type aliases shared across stripekit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ._event import Event

__all__ = ["AsyncHandler", "Handler", "Headers", "JSONObject", "SyncHandler"]

JSONObject: TypeAlias = dict[str, Any]
"""A decoded JSON object."""

Headers: TypeAlias = Mapping[str, str]
"""Request headers; looked up case-insensitively by the kit."""

SyncHandler: TypeAlias = Callable[["Event"], object]
AsyncHandler: TypeAlias = Callable[["Event"], Awaitable[object]]
Handler: TypeAlias = SyncHandler | AsyncHandler
"""A webhook handler: takes the Event, returns nothing of interest; sync or async."""
