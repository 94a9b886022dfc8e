"""PostgreSQL that stops answering: a 503 within the store's timeouts, never a hang.

Stripe gives up on a delivery after about 15 s and learns nothing from a hang;
a 503 says "try again later". Each test checks that the answer comes while the
fault still holds (a table lock still taken, a connection still silent), so no
test depends on how fast this machine is; PATIENCE only stops a broken run.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url
from tcp_proxy import FreezableProxy, SilentServer

from stripekit import (
    EventStatus,
    EventStoreError,
    SQLEventStore,
    WebhookProcessor,
    WebhookRegistry,
)
from stripekit.store._timeouts import StoreTimeouts
from stripekit.testing import signed_event

pytestmark = pytest.mark.postgres

SECRET = "whsec_timeouts"
QUICK = StoreTimeouts(connect=2, statement=2, lock=1)
PATIENCE = 60


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}_"


@pytest.fixture
def store(postgres_url: str, prefix: str) -> Iterator[SQLEventStore]:
    made = SQLEventStore(postgres_url, table_prefix=prefix, timeouts=QUICK)
    made.migrate()
    yield made
    made.close()


def processor_for(store: SQLEventStore) -> WebhookProcessor:
    return WebhookProcessor(secrets=[SECRET], store=store, registry=WebhookRegistry())


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def in_thread(fn: Any) -> Any:
    """Run ``fn`` in a thread; its result, or fail if it is still running after PATIENCE."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    thread.start()
    thread.join(PATIENCE)
    assert not thread.is_alive(), "the call hung"
    return box[0]


def test_a_locked_table_is_a_503_while_the_lock_is_held(
    store: SQLEventStore, postgres_url: str, prefix: str
) -> None:
    processor = processor_for(store)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_locked")
    with psycopg.connect(conninfo(postgres_url)) as locker:
        locker.execute(f"LOCK TABLE {prefix}events IN ACCESS EXCLUSIVE MODE")
        result = in_thread(lambda: processor.process(body, headers))
        assert result.status == 503
        assert locker.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    # The lock gone, the same delivery goes through.
    assert processor.process(body, headers).status == 200


async def test_the_async_route_answers_503_during_a_lock_too(
    store: SQLEventStore, postgres_url: str, prefix: str
) -> None:
    processor = processor_for(store)
    body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_locked_async")
    with psycopg.connect(conninfo(postgres_url)) as locker:
        locker.execute(f"LOCK TABLE {prefix}events IN ACCESS EXCLUSIVE MODE")
        result = await asyncio.wait_for(processor.aprocess(body, headers), PATIENCE)
        assert result.status == 503
    assert (await processor.aprocess(body, headers)).status == 200


async def test_a_server_gone_silent_is_a_503_on_the_async_route(postgres_url: str) -> None:
    url = make_url(postgres_url)
    with FreezableProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        store = SQLEventStore(through, table_prefix=f"t{uuid.uuid4().hex[:12]}_", timeouts=QUICK)
        processor = processor_for(store)
        body, headers = signed_event("invoice.paid", secret=SECRET, id="evt_silent")
        assert (
            await processor.aprocess(*signed_event("invoice.paid", secret=SECRET))
        ).status == 200
        proxy.freeze()  # connections stay open; nothing gets through, either way
        result = await asyncio.wait_for(processor.aprocess(body, headers), PATIENCE)
        assert result.status == 503
        assert "did not answer within 5 s" in str(result.error)
        proxy.thaw()
        # The claim given up on goes through in its thread, and is let go at once:
        # the redelivery runs the handlers, without waiting for the lease to end.
        for _ in range(PATIENCE * 20):
            row = store.get("evt_silent")
            if row is not None and row.status is EventStatus.FAILED:
                break
            await asyncio.sleep(0.05)
        assert "answered after 5 s, too late" in (row.last_error or "")  # type: ignore[union-attr]
        result = await processor.aprocess(body, headers)
        assert (result.status, result.outcome) == (200, "unhandled")
        store.close()
        gc.collect()  # any connection left behind warns here, in this test


def test_a_server_that_never_greets_is_reported_at_the_connect_timeout() -> None:
    with SilentServer() as silent:
        store = SQLEventStore(
            f"postgresql://nobody@127.0.0.1:{silent.port}/nothing", timeouts=QUICK
        )

        def attempt() -> BaseException | None:
            try:
                store.migrate()
            except BaseException as exc:
                return exc
            return None

        error = in_thread(attempt)
        assert isinstance(error, EventStoreError)
        assert "cannot reach the event store database" in str(error)
        store.close()


def test_timeouts_reach_the_server_and_the_url_may_override_them(
    postgres_url: str, prefix: str
) -> None:
    store = SQLEventStore(postgres_url, table_prefix=prefix, timeouts=QUICK)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "2s"
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "1s"
    store.close()
    own = make_url(postgres_url).update_query_dict({"connect_timeout": "7"})
    store = SQLEventStore(own.render_as_string(hide_password=False), table_prefix=prefix)
    assert store.engine.dialect.create_connect_args(store.engine.url)[1]["connect_timeout"] == "7"
    store.close()


def test_timeouts_are_checked() -> None:
    with pytest.raises(Exception, match="connect timeout must be between 0 and 600"):
        StoreTimeouts(connect=0)
