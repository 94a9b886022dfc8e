"""Type aliases shared across stripekit (the webhook handler aliases live in ``webhooks``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

__all__ = ["Headers", "JSONObject"]

JSONObject: TypeAlias = dict[str, Any]
"""A decoded JSON object."""

Headers: TypeAlias = Mapping[str, str]
"""Request headers; looked up case-insensitively by the kit."""
