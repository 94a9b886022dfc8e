"""The sweeper: runs again what deferred processing (or a crash) left undone.

It picks, from the store, the events left ``queued`` longer than a grace period
(the broker was down when they arrived, or their task was lost), ``failed``
ones under a retry budget, and ``processing`` ones whose worker's lease ran out
or whose worker died on this machine; then it runs each one's handlers itself,
in this process, through the same claim as a task::

    store.sweepable(grace, max_attempts) ─▶ for each id: claim_for_replay(max_attempts)
        ─▶ taken: handlers ─▶ complete / fail      held or done meanwhile: skipped

It runs the handlers rather than enqueueing them again: the reason an event
is still queued is often that the broker was unreachable, and a cron job's exit
status then says whether the work got done. Several sweepers (and the queue's
workers) may run at once, on any machines: the store's atomic claim lets one of
them run each event, and the retry budget is checked in the same step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._dispatch import WebhookResult, unavailable

if TYPE_CHECKING:
    from ._dispatch import Dispatcher

__all__ = ["SweepReport", "asweep", "sweep"]

_UNFINISHED = frozenset({"failed", "unavailable", "error"})


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did.

    Attributes:
        results: one per event it tried, oldest received first: its outcome is
            ``processed``/``unhandled`` (ran now), ``failed`` (a handler raised
            again), ``in_flight`` or ``duplicate`` (another worker had it, or it
            is out of attempts: nothing ran), ``unavailable`` (the store failed).
    """

    results: list[WebhookResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """How many events ended with each outcome."""
        return dict(Counter(result.outcome for result in self.results))

    @property
    def ok(self) -> bool:
        """Whether no event it ran failed (a scheduler's success)."""
        return not any(result.outcome in _UNFINISHED for result in self.results)


def sweep(
    dispatcher: Dispatcher, *, grace: float, max_attempts: int, limit: int = 1000
) -> SweepReport:
    """Run what was left: queued past ``grace`` seconds, failed or stuck under
    ``max_attempts``; at most ``limit`` events, each once."""
    try:
        due = dispatcher.store.sweepable(grace=grace, max_attempts=max_attempts, limit=limit)
    except ValueError:
        raise
    except Exception as exc:
        return SweepReport([unavailable("*", exc)])
    return SweepReport([dispatcher.replay(event_id, max_attempts=max_attempts) for event_id in due])


async def asweep(
    dispatcher: Dispatcher, *, grace: float, max_attempts: int, limit: int = 1000
) -> SweepReport:
    """Async twin of ``sweep``."""
    try:
        due = await dispatcher.call_store(
            dispatcher.store.sweepable, grace=grace, max_attempts=max_attempts, limit=limit
        )
    except ValueError:
        raise
    except Exception as exc:
        return SweepReport([unavailable("*", exc)])
    results = [await dispatcher.areplay(event_id, max_attempts=max_attempts) for event_id in due]
    return SweepReport(results)
