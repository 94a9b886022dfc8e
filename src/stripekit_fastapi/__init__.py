"""Thin FastAPI / Starlette integration for stripekit (routes and pages arrive with issue 4)."""

from __future__ import annotations

__all__: list[str] = []
