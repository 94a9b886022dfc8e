"""Deadlines for the store calls of async deliveries: one timer per event loop.

Every delivery waits for two store calls (its claim and its completion), each
under the dispatcher's deadline. ``asyncio.timeout`` around ``asyncio.shield``
costs a timer, a second future and a turn of the loop per call: 9 µs a call
against 4 µs this way (measured alone, on uvloop), 10 µs a delivery. A
``StoreCall`` needs none of them: the caller awaits the store's own future, and
one timer per loop looks at the calls still waited for a few times per
deadline. One found past its deadline gets the caller's error set on it (the
caller wakes up with it), while the write it stands for goes on in its batch,
whose result then goes to ``StoreCall.late``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ._store import StoreCall

__all__ = ["Deadlines"]

_MAX_TICK = 0.5
"""Seconds between two looks at the waiting calls at most: how late a deadline may be
noticed (a twentieth of the deadline when that is shorter)."""

_Expire = Callable[[StoreCall[Any], Any], None]


class Deadlines:
    """Calls that must be answered within a number of seconds, per event loop.

    Args:
        expire: ``expire(call, about)`` runs on the call's loop when a watched call
            is still waiting at its deadline; it should end the wait (set its error).
    """

    def __init__(self, expire: _Expire) -> None:
        self._expire = expire
        # Per loop, the calls waited for now (in the order they were watched): what the
        # caller waits for only; each leaves when its caller stops waiting, so that no
        # answered call, nor what it answered, is kept until the next look.
        self._waiting: dict[asyncio.AbstractEventLoop, dict[StoreCall[Any], tuple[float, Any]]]
        self._waiting = {}

    def watch(self, call: StoreCall[Any], seconds: float, about: Any) -> None:
        """Watch ``call`` until ``unwatch(call)``: ``expire(call, about)`` if it is not done
        ``seconds`` from now."""
        loop = call.get_loop()
        waiting = self._waiting.get(loop)
        if waiting is None:
            # A loop closed before its timer fired (asyncio.run() per call, as in a sync
            # app's async_to_sync) leaves its entry: dropped here, when another loop starts.
            # (list(): another thread's loop may add its own entry meanwhile.)
            for other in list(self._waiting):
                if other.is_closed():
                    self._waiting.pop(other, None)
            waiting = self._waiting[loop] = {}
            loop.call_later(min(_MAX_TICK, seconds / 20), self._look, loop, seconds)
        waiting[call] = (loop.time() + seconds, about)

    def unwatch(self, call: StoreCall[Any]) -> None:
        """Its caller no longer waits (answered, failed or cancelled)."""
        waiting = self._waiting.get(call.get_loop())
        if waiting is not None:
            waiting.pop(call, None)

    def _look(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        waiting = self._waiting.get(loop)
        if not waiting:
            self._waiting.pop(loop, None)  # the next watch() starts the timer again
            return
        now = loop.time()
        due = [(call, about) for call, (deadline, about) in waiting.items() if deadline <= now]
        for call, about in due:
            del waiting[call]
            if not call.done():
                self._expire(call, about)
        loop.call_later(min(_MAX_TICK, seconds / 20), self._look, loop, seconds)
