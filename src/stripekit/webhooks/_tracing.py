"""OpenTelemetry spans when ``opentelemetry-api`` is installed and a tracer provider is set.

Without the package, or while the app has set no tracer provider (the API's
default proxy, or its no-op), ``current_tracer`` answers None and a delivery
makes no span at all: not even the API's no-op spans, which cost a few
microseconds each on the hot path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TRACER_NAME", "current_tracer"]

TRACER_NAME = "stripekit"

_trace: Any = None
"""``opentelemetry.trace`` once imported; False when it is not installed."""
_inert: tuple[type, ...] = ()
_provider: Any = None
_tracer: Any = None


def current_tracer() -> Any:
    """stripekit's tracer from the global tracer provider, or None when tracing is off."""
    global _trace, _inert, _provider, _tracer
    if _trace is None:
        _trace, _inert = _load()
    if _trace is False:
        return None
    provider = _trace.get_tracer_provider()
    if provider is _provider:
        return _tracer
    if isinstance(provider, _inert):
        return None
    _tracer = provider.get_tracer(TRACER_NAME)
    _provider = provider
    return _tracer


def _load() -> tuple[Any, tuple[type, ...]]:
    try:
        from opentelemetry import trace
    except ImportError:
        return False, ()
    return trace, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
