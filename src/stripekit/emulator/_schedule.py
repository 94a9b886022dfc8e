"""What falls due as time passes: each resource module registers what it is waiting for.

A timer lists ``(moment, action)`` pairs: a session that expires at its
``expires_at``, a subscription that renews at its period's end, an invoice
retried at its ``next_payment_attempt``... Moving the clock runs them in the
order they fall due, with the clock at each one's moment, so that the events
they send are dated when Stripe would date them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._core import Emulator

__all__ = ["TIMERS", "run_due", "timer"]

Pending = Iterable[tuple[int, Callable[[], None]]]
Timer = Callable[["Emulator"], Pending]

TIMERS: list[Timer] = []

_MOST_STEPS = 100_000
"""A bound on the steps of one move of the clock (a timer that never settles is a bug)."""


def timer(pending: Timer) -> Timer:
    """Register ``pending(emulator)``: what it is waiting for, as ``(moment, action)`` pairs."""
    TIMERS.append(pending)
    return pending


def run_due(emu: Emulator, until: int) -> None:
    """Run, one by one and in time order, every action due by ``until``.

    The list is asked for again after each action: an action changes what is
    due (a renewal that fails schedules a retry, a cancellation drops the renewal).
    """
    state = emu.state
    for _ in range(_MOST_STEPS):
        due = []
        # Each account's objects fall due in that account (Connect), and what they do
        # (an invoice, its events) happens there too.
        for account in state.accounts():
            with state.acting_as(account):
                due += [
                    (moment, order, account, action)
                    for order, pending in enumerate(TIMERS)
                    for moment, action in pending(emu)
                    if moment <= until
                ]
        if not due:
            return
        moment, _, account, action = min(due, key=lambda found: (found[0], found[1]))
        state.clock.move_to(moment)
        with state.acting_as(account):
            action()
            emu.settle()
    raise RuntimeError(f"the emulator's clock did not settle after {_MOST_STEPS} steps")
