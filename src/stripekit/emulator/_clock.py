"""Moving the emulator's time on, and everything that falls due when it moves."""

from __future__ import annotations

from ._core import Emulator
from ._schedule import run_due
from ._wire import StripeError

__all__ = ["advance_clock"]


def advance_clock(emu: Emulator, seconds: int) -> int:
    """Move time on by ``seconds``; returns the new now.

    Whatever falls due on the way happens in time order, each at its own
    moment: open Checkout Sessions expire, trials warn and end, subscriptions
    renew or end, failed invoices are retried, disputes close...
    """
    if seconds < 0:
        raise StripeError(400, "the emulator's clock only moves forward", param="seconds")
    with emu.state.locked():
        target = emu.state.clock.now() + seconds
        run_due(emu, until=target)
        emu.state.clock.move_to(target)
        return emu.state.clock.now()
