"""Moving the emulator's time on, and everything that falls due when it moves."""

from __future__ import annotations

from ._checkout_api import expire_due
from ._core import Emulator
from ._subscriptions import renew_due

__all__ = ["advance_clock"]


def advance_clock(emu: Emulator, seconds: int) -> int:
    """Move time on by ``seconds``; returns the new now.

    Open Checkout Sessions past their ``expires_at`` expire, then subscriptions
    whose period ended renew, end their trial or end (``cancel_at_period_end``).
    """
    with emu.state.lock:
        now = emu.state.clock.advance(seconds)
        expire_due(emu)
        renew_due(emu)
        return now
