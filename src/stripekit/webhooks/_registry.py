"""The dispatch table: which handlers run for which event type."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from stripekit._errors import ConfigurationError

from ._event_types import check_pattern
from ._types import Handler

if TYPE_CHECKING:
    from ._event import Event

__all__ = ["TwinHandler", "WebhookRegistry", "is_async_handler"]

H = TypeVar("H", bound=Handler)


class WebhookRegistry:
    """Maps event types (and wildcard patterns) to handlers, in registration order.

    Patterns are checked when registered: a type Stripe never sends fails at
    import time with a "did you mean" hint, not silently at the first event.
    Registration closes once events flow, so every worker dispatches the same way.

    Example:
        >>> webhooks = WebhookRegistry()
        >>> @webhooks.on("checkout.session.completed", "invoice.paid")
        ... def fulfil(event):
        ...     print("fulfil", event.object["id"])
        >>> [h.__name__ for h in webhooks.handlers_for("invoice.paid")]
        ['fulfil']
    """

    def __init__(self) -> None:
        self._entries: list[tuple[str, Handler]] = []
        self._cache: dict[str, tuple[Handler, ...]] = {}
        self._frozen = False

    def register(self, types: str | Iterable[str], handler: H) -> H:
        """Run ``handler`` for events of ``types``; returns the handler unchanged."""
        patterns = [types] if isinstance(types, str) else list(types)
        if not patterns:
            raise ConfigurationError(f"give at least one event type for handler {_name(handler)}")
        if not callable(handler):
            raise ConfigurationError(f"a webhook handler must be callable, not {handler!r}")
        if self._frozen:
            raise ConfigurationError(
                f"cannot register {_name(handler)}: events are already being processed; "
                "register handlers at import time, before the first webhook arrives"
            )
        checked = [check_pattern(p) for p in patterns]
        self._entries.extend((p, handler) for p in checked)
        self._cache.clear()
        return handler

    def on(self, *types: str) -> Callable[[H], H]:
        """Decorator form of ``register``: ``@webhooks.on("invoice.paid")``."""

        def decorator(handler: H) -> H:
            return self.register(types, handler)

        return decorator

    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        """The handlers for one event type, each once, in registration order."""
        try:
            return self._cache[event_type]
        except KeyError:
            pass
        found: list[Handler] = []
        for pattern, handler in self._entries:
            if handler not in found and _matches(pattern, event_type):
                found.append(handler)
        handlers = tuple(found)
        # Unbounded keys would let a sender grow this dict; Stripe's types are finite.
        if len(self._cache) < 4096:
            self._cache[event_type] = handlers
        return handlers

    def freeze(self) -> None:
        """Close registration; the processor calls this on the first event."""
        self._frozen = True

    @property
    def frozen(self) -> bool:
        """Whether registration is closed (an event was processed)."""
        return self._frozen

    @property
    def patterns(self) -> list[str]:
        """Every registered pattern, in order (for checks and listings)."""
        return [p for p, _ in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<WebhookRegistry {len(self._entries)} handlers>"


def _matches(pattern: str, event_type: str) -> bool:
    if pattern == event_type or pattern == "*":
        return True
    return "*" in pattern and fnmatch.fnmatchcase(event_type, pattern)


def _name(handler: object) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


def is_async_handler(handler: Handler) -> bool:
    """Whether calling the handler returns an awaitable we must await."""
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - async callable objects
    )


class TwinHandler:
    """A handler with a sync body and an async one: the sync path (``process``, Django)
    calls the first in its thread, the async path (``aprocess``) awaits the second on
    the loop. The kit's own handlers (the billing mirror) are such twins.

    Example:
        >>> def record(event): ...
        >>> async def arecord(event): ...
        >>> twin = TwinHandler(record, arecord)
        >>> twin.__qualname__
        'record'
    """

    def __init__(
        self, sync: Callable[[Event], object], async_: Callable[[Event], Awaitable[object]]
    ) -> None:
        self.sync = sync
        self.async_ = async_
        self.__qualname__ = _name(sync)

    def __call__(self, event: Event) -> object:
        return self.sync(event)

    async def run_async(self, event: Event) -> None:
        """The async body."""
        await self.async_(event)
