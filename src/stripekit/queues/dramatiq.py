"""Deferred processing on Dramatiq (RabbitMQ or Redis).

The web app and the worker import the same module::

    # tasks.py
    import dramatiq
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from stripekit.queues import dramatiq as stripekit_dramatiq

    dramatiq.set_broker(RabbitmqBroker(url="amqp://guest:guest@127.0.0.1:5672"))
    kit = StripeKit(processing="deferred", webhooks=webhooks)
    run_deferred = stripekit_dramatiq.register(kit)

and the worker runs ``dramatiq tasks``. Dramatiq acknowledges a message once its
actor returned, so a worker killed mid-task leaves the message to the broker
(RabbitMQ hands it over at once; Redis after its heartbeat timeout), and its
Retries middleware retries, with exponential backoff, while a handler raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._extra import missing_extra

if TYPE_CHECKING:
    from stripekit._kit import StripeKit

__all__ = ["DramatiqQueue", "register"]

ACTOR_NAME = "stripekit_run_deferred"


class DramatiqQueue:
    """A ``TaskQueue`` that sends each event id to a Dramatiq actor."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def __repr__(self) -> str:
        return f"<DramatiqQueue actor={self.actor.actor_name!r} queue={self.actor.queue_name!r}>"

    def enqueue(self, event_id: str) -> None:
        """Send the message; raises if the broker cannot be reached."""
        self.actor.send(event_id)


def register(
    kit: StripeKit,
    *,
    broker: Any = None,
    queue_name: str = "default",
    actor_name: str = ACTOR_NAME,
    max_retries: int = 8,
    min_backoff: int = 1_000,
    max_backoff: int = 600_000,
) -> Any:
    """Declare the actor that runs deferred events and set it as ``kit``'s queue.

    Args:
        kit: the StripeKit whose events it runs (``processing="deferred"`` on the web side).
        broker: the Dramatiq broker (None: the global one, ``dramatiq.set_broker``).
        queue_name: the queue its messages go to (``dramatiq tasks --queues``).
        max_retries: how often Dramatiq retries a message whose handlers raise, from
            ``min_backoff`` to ``max_backoff`` milliseconds apart; the sweeper
            (``kit.sweep``) takes over after that, within its own budget.

    Returns:
        The Dramatiq actor (``run_deferred.send(event_id)`` sends one by hand).

    Example:
        >>> run_deferred = register(kit)  # doctest: +SKIP
    """
    try:
        import dramatiq
    except ImportError:
        raise missing_extra("dramatiq", "dramatiq") from None

    def run_deferred(event_id: str) -> None:
        kit.run_deferred(event_id)  # raises DeferredProcessingError: Dramatiq retries

    actor = dramatiq.actor(
        actor_name=actor_name,
        queue_name=queue_name,
        broker=broker,
        max_retries=max_retries,
        min_backoff=min_backoff,
        max_backoff=max_backoff,
    )(run_deferred)
    kit.use_queue(DramatiqQueue(actor))
    return actor
