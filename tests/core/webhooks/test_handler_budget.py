"""Handlers run on the kit's own threads, within a time budget: a hanging one stalls nothing else.

The audit's case: six `def` handlers that hang, on a 2-core machine, took all of
asyncio's default threads, which the event store's calls need too, and every
other delivery waited 16 s. Now sync handlers run on the dispatcher's own
bounded pool, and past `handler_timeout` a delivery is answered 500 and its
event recorded failed ("timed out"), while other deliveries keep flowing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from stripekit import (
    ConfigurationError,
    Event,
    EventStatus,
    MemoryEventStore,
    Settings,
    WebhookProcessor,
    WebhookRegistry,
)
from stripekit.testing import signed_event

SECRET = "whsec_budget"
# Generous: only a broken implementation ever waits this long.
PATIENCE = 30


class BlockingStore(MemoryEventStore):
    """The memory store, called from worker threads like a database store."""

    blocking = True


@pytest.fixture
def release() -> Iterator[threading.Event]:
    gate = threading.Event()
    yield gate
    gate.set()  # let the hung handler threads end with the test


def deliver(processor: WebhookProcessor, event_type: str, event_id: str) -> Any:
    body, headers = signed_event(event_type, secret=SECRET, id=event_id)
    return processor.aprocess(body, headers)


async def test_hanging_sync_handlers_do_not_stall_other_deliveries(
    release: threading.Event,
) -> None:
    webhooks = WebhookRegistry()
    seen: list[str] = []

    @webhooks.on("invoice.paid")
    def hang(event: Event) -> None:
        release.wait(PATIENCE)

    @webhooks.on("customer.created")
    async def quick(event: Event) -> None:
        seen.append(event.id)

    store = BlockingStore()
    processor = WebhookProcessor(
        secrets=[SECRET], store=store, registry=webhooks, handler_timeout=1, handler_threads=4
    )
    # Ten hanging deliveries: more than the handler threads, more than asyncio's own.
    hanging = [
        asyncio.ensure_future(deliver(processor, "invoice.paid", f"evt_hang_{n}"))
        for n in range(10)
    ]
    await asyncio.sleep(0.05)
    # Meanwhile deliveries that need no handler thread are answered, while all hang.
    others = await asyncio.wait_for(
        asyncio.gather(
            *(deliver(processor, "customer.created", f"evt_quick_{n}") for n in range(5)),
            deliver(processor, "charge.refunded", "evt_unhandled"),
        ),
        PATIENCE,
    )
    assert [r.status for r in others] == [200] * 6
    assert sorted(seen) == [f"evt_quick_{n}" for n in range(5)]
    assert not release.is_set()
    # The hanging ones are answered 500 at the budget, not when their handler returns.
    results = await asyncio.wait_for(asyncio.gather(*hanging), PATIENCE)
    assert not release.is_set()
    assert {r.status for r in results} == {500}
    for n in range(10):
        stored = store.get(f"evt_hang_{n}")
        assert stored is not None and stored.status is EventStatus.FAILED
        assert "hang: timed out after 1 s (STRIPEKIT_HANDLER_TIMEOUT)" in (stored.last_error or "")
    processor.close()


async def test_a_hanging_async_handler_is_cancelled_at_the_budget() -> None:
    webhooks = WebhookRegistry()
    cancelled = asyncio.Event()

    @webhooks.on("invoice.paid")
    async def forever(event: Event) -> None:
        try:
            await asyncio.sleep(PATIENCE)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    store = MemoryEventStore()
    processor = WebhookProcessor(
        secrets=[SECRET], store=store, registry=webhooks, handler_timeout=0.2
    )
    result = await asyncio.wait_for(deliver(processor, "invoice.paid", "evt_async"), PATIENCE)
    assert result.status == 500 and cancelled.is_set()
    assert "timed out after 0.2 s" in (store.get("evt_async").last_error or "")  # type: ignore[union-attr]


async def test_the_budget_is_for_all_of_a_deliverys_handlers() -> None:
    webhooks = WebhookRegistry()
    ran: list[str] = []

    @webhooks.on("invoice.paid")
    def first(event: Event) -> None:
        time.sleep(0.3)
        ran.append("first")

    @webhooks.on("invoice.paid")
    def second(event: Event) -> None:
        time.sleep(0.3)
        ran.append("second")

    store = MemoryEventStore()
    processor = WebhookProcessor(
        secrets=[SECRET], store=store, registry=webhooks, handler_timeout=0.45
    )
    result = await deliver(processor, "invoice.paid", "evt_two")
    assert result.status == 500 and ran[:1] == ["first"]
    assert (store.get("evt_two").last_error or "").startswith(  # type: ignore[union-attr]
        "test_the_budget_is_for_all_of_a_deliverys_handlers.<locals>.second: timed out"
    )
    processor.close()


async def test_a_handler_raising_timeout_error_itself_is_a_plain_failure() -> None:
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    async def slow_api(event: Event) -> None:
        raise TimeoutError("the mail server did not answer")

    store = MemoryEventStore()
    processor = WebhookProcessor(secrets=[SECRET], store=store, registry=webhooks)
    result = await deliver(processor, "invoice.paid", "evt_te")
    error = store.get("evt_te").last_error or ""  # type: ignore[union-attr]
    assert result.status == 500 and "the mail server did not answer" in error
    assert "STRIPEKIT_HANDLER_TIMEOUT" not in error


async def test_sync_handlers_see_the_callers_context_variables() -> None:
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
    webhooks = WebhookRegistry()
    seen: list[str] = []

    @webhooks.on("invoice.paid")
    def log(event: Event) -> None:
        seen.append(request_id.get())

    processor = WebhookProcessor(secrets=[SECRET], store=MemoryEventStore(), registry=webhooks)
    request_id.set("req_42")
    assert (await deliver(processor, "invoice.paid", "evt_ctx")).status == 200
    assert seen == ["req_42"]
    processor.close()


def test_the_lease_must_outlast_the_budget() -> None:
    with pytest.raises(ConfigurationError, match=r"CLAIM_LEASE .* longer than .*HANDLER_TIMEOUT"):
        Settings(claim_lease=10, handler_timeout=10)
    with pytest.raises(ConfigurationError, match="shorter than the claim lease"):
        WebhookProcessor(
            secrets=[SECRET],
            store=MemoryEventStore(),
            registry=WebhookRegistry(),
            lease=5,
            handler_timeout=5,
        )
    defaults = Settings()
    assert (defaults.handler_timeout, defaults.claim_lease, defaults.handler_threads) == (10, 60, 8)
