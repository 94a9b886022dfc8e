"""Fields Stripe computes on request (``expand[]=line_items``) instead of storing inline.

A resource module registers each one with ``@computed``; the Emulator fills it
in when a request expands it. The table lives apart from both so that neither
imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._state import State

__all__ = ["COMPUTED", "Computed", "computed"]

Computed = Callable[[State, dict[str, Any]], Any]
"""Builds a field's value from the emulator's state and the object that holds it."""

COMPUTED: dict[tuple[str, str], Computed] = {}
"""(object type, field) -> how to compute it."""


def computed(object_type: str, field: str) -> Callable[[Computed], Computed]:
    """Register ``build(state, obj)`` as the value of ``obj[field]`` when it is expanded."""

    def register(build: Computed) -> Computed:
        COMPUTED[(object_type, field)] = build
        return build

    return register
