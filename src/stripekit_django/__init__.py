"""Thin Django integration for stripekit (the app arrives with issue 5)."""

from __future__ import annotations

__all__: list[str] = []
