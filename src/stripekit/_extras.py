"""Optional packages: which extra installs which import, and one line when one is missing.

The base install is the core and the command; the emulator (Starlette, uvicorn),
FastAPI, Django and the PostgreSQL driver come with extras. Code that imports one
of them on behalf of a command wraps the import in :func:`needs_extra`, so a user
without it reads which extra to install instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._errors import MissingExtraError

__all__ = ["EXTRA_OF", "needs_extra"]

EXTRA_OF = {
    "starlette": "emulator",
    "uvicorn": "emulator",
    "fastapi": "fastapi",
    "python_multipart": "fastapi",
    "multipart": "fastapi",
    "django": "django",
    "psycopg": "postgres",
    "prometheus_client": "metrics",
    "opentelemetry": "otel",
}
"""Top-level import name → the smallest extra that installs it."""


@contextmanager
def needs_extra(what: str) -> Iterator[None]:
    """Turn a missing optional package imported in the block into a ``MissingExtraError``.

    A missing module no extra provides is a real bug and propagates unchanged.

    Example:
        >>> with needs_extra("stripekit emulator"):
        ...     import json
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        extra = EXTRA_OF.get(top)
        if extra is None:
            raise
        raise MissingExtraError(what, top, extra) from None
