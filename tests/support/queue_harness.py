"""What the queue adapter tests share: docs/scale.md's ``tasks.py`` deployed as a user
would (``Shop``), its worker and web app in processes of their own (to kill -9), signed
deliveries over HTTP, and the handler's tables (tests/support/queue_handlers.py) read back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docs_blocks import DOCS, code_blocks, section
from queue_handlers import SHOP_HANDLERS, create_tables, fulfilment
from services import AMQP_URL, REDIS_URL, require_module, require_port
from sqlalchemy import create_engine, text
from webhook_server import Server, raw_request, send_all

from stripekit import EventStatus, StripeKit
from stripekit.testing import signed_event

HERE = Path(__file__).resolve().parent
"""Where queue_app.py is: on the workers' PYTHONPATH, after the project's folder."""
SECRET = "whsec_queues"
DEADLINE = 30.0  # seconds any wait of these tests may last


class Worker:
    """A queue worker in a session of its own; ``kill()`` is a SIGKILL of all its processes."""

    def __init__(
        self, command: list[str], env: dict[str, str], log: Path, cwd: Path = HERE
    ) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL, no shutdown: what an OOM kill or a lost machine leaves."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


# -- the adapters and their brokers ----------------------------------------------------------


@dataclass(frozen=True)
class Adapter:
    """A queue library on one broker, as docs/scale.md's section of that name deploys it."""

    name: str  # celery, dramatiq or rq: the library, its extra and its section
    scheme: str  # of the broker's URL: amqp or redis
    redelivers: bool
    """Whether the broker gives a killed worker's tasks to the next worker by itself
    (else the sweeper takes their events over)."""
    loses_in_flight: bool = False
    """Whether a killed worker may take with it a task it was receiving (its event stays
    queued, for the sweeper): Celery on Redis pops a message off the list (BRPOP) before
    it records it unacked, and the reply of the BRPOP it always has out is that task."""

    def __str__(self) -> str:
        return f"{self.name}-{self.scheme}"

    @property
    def env_var(self) -> str:
        """Where the page's tasks.py reads the broker's URL."""
        return {"celery": "CELERY_BROKER_URL", "dramatiq": "DRAMATIQ_BROKER_URL"}.get(
            self.name, "REDIS_URL"
        )

    def require(self) -> None:
        """Skip (or fail, in CI) without the library or its broker's client."""
        require_module(self.name, self.name)
        if self.scheme == "redis":
            require_module("redis", self.name)
        elif self.name == "dramatiq":
            require_module("pika", self.name)

    def broker(self) -> str:
        """The running broker's URL (skips when it is not running)."""
        if self.scheme == "amqp":
            return self.url(require_port(AMQP_URL, "RabbitMQ"))
        return self.url(require_port(REDIS_URL, "Redis"))

    def url(self, url: str) -> str:
        """``url`` as this library writes it: pika names RabbitMQ's default vhost %2F
        (Celery's URL says //), and is told to try once (a broker that is down fails the
        send at once)."""
        if self.name == "dramatiq" and self.scheme == "amqp":
            return url.rstrip("/") + "/%2F?connection_attempts=1"
        return url

    def command(self, queue: str, threads: int, broker: str) -> list[str]:
        if self.name == "celery":
            return [
                sys.executable, "-m", "celery", "-A", "queue_app:app", "worker",
                "--pool=threads", f"--concurrency={threads}", "-Q", queue,
                "--without-heartbeat", "--without-gossip", "--without-mingle",
                "--loglevel=WARNING",
            ]  # fmt: skip
        if self.name == "dramatiq":
            return [
                sys.executable, "-m", "dramatiq", "queue_app", "--processes", "1",
                "--threads", str(threads), "--queues", queue,
            ]  # fmt: skip
        # RQ runs one job at a time; SimpleWorker runs it in the worker's own process.
        return [
            sys.executable, "-c", "from rq.cli import main; main()", "worker", "--url",
            broker, "--worker-class", "rq.worker.SimpleWorker", queue,
        ]  # fmt: skip

    def threads(self) -> int:
        return 1 if self.name == "rq" else 4


ADAPTERS = [
    Adapter("celery", "amqp", redelivers=True),
    Adapter("celery", "redis", redelivers=True, loses_in_flight=True),  # after 10 s (visibility)
    Adapter("dramatiq", "amqp", redelivers=True),
    Adapter("dramatiq", "redis", redelivers=True),  # after its heartbeat timeout: 3 s
    Adapter("rq", "redis", redelivers=False),
]


def closed_port_url(scheme: str) -> str:
    """A broker URL on a port nothing listens on: the broker is down."""
    from stripekit._serving import free_port

    return f"{scheme}://guest:guest@127.0.0.1:{free_port()}/" + ("/" if scheme == "amqp" else "0")


# -- docs/scale.md's tasks.py, deployed --------------------------------------------------------

PAGE_QUEUE = '"stripe"'
"""The queue the page's examples name; each test swaps in a queue of its own, so that no
other run on the same broker (another test, another checkout's) takes its tasks."""


def documented_tasks(adapter: str) -> str:
    """docs/scale.md's ``tasks.py`` for ``adapter`` (its "Queue adapters" subsection), and
    for Celery the lines "The sweeper" adds to it (the sweep as a Celery beat task)."""
    page = (DOCS / "scale.md").read_text(encoding="utf-8")
    heading = {"celery": "### Celery", "dramatiq": "### Dramatiq", "rq": "### RQ"}[adapter]
    parts = [section(section(page, "## Queue adapters"), heading)]
    if adapter == "celery":
        parts.append(section(page, "## The sweeper"))
    files = []
    for part in parts:
        found = [block.code for block in code_blocks(part) if block.title == "tasks.py"]
        assert len(found) == 1, f"docs/scale.md, {part.splitlines()[0]}: not one tasks.py"
        files += found
    return "\n\n".join(files)


class Shop:
    """One test's deployment of docs/scale.md's ``tasks.py``, as the page tells a user.

    Its folder holds the page's ``tasks.py`` (its queue swapped for the test's) and
    ``shop/handlers.py``; its processes (the worker, the web app, the sweep command) get
    the page's environment: the broker's URL, ``STRIPEKIT_DATABASE_URL``,
    ``STRIPE_WEBHOOK_SECRET``. ``kit`` is the test's own view of the same database (an
    operator's ``stripekit events``): it reads the store and sweeps.
    """

    def __init__(
        self, adapter: Adapter, broker: str, database: str, queue: str, folder: Path
    ) -> None:
        self.adapter = adapter
        self.broker = broker
        self.database = database
        self.queue = queue
        self.folder = folder
        self._made: list[Worker | Server] = []
        code = documented_tasks(adapter.name)
        assert PAGE_QUEUE in code, f"the page's tasks.py names no {PAGE_QUEUE} queue"
        (folder / "tasks.py").write_text(code.replace(PAGE_QUEUE, f'"{queue}"'), encoding="utf-8")
        (folder / "shop").mkdir()
        (folder / "shop" / "__init__.py").write_text("", encoding="utf-8")
        (folder / "shop" / "handlers.py").write_text(SHOP_HANDLERS, encoding="utf-8")

        # The tables exist before any process starts: none of them races to make them.
        create_tables(database)
        webhooks, self._engine = fulfilment(database)
        self.kit = StripeKit(
            webhook_secret=SECRET, database_url=database, webhooks=webhooks, billing=False
        )
        self.kit.store.migrate()

    def environment(self, broker: str | None = None, **settings: str) -> dict[str, str]:
        """The processes' environment: the page's settings (and ``settings``), the
        project on the path."""
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(self.folder), str(HERE), *sys.path]),
            self.adapter.env_var: self.broker if broker is None else broker,
            "STRIPEKIT_DATABASE_URL": self.database,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            # Long: a killed worker's event is taken over because its holder is dead,
            # not because its lease ran out.
            "STRIPEKIT_CLAIM_LEASE": "300",
            **settings,
        }

    def worker(self, threads: int | None = None, **settings: str) -> Worker:
        """The adapter's worker on the project (not started yet), with more ``settings``
        in its environment; output in worker.log."""
        threads = threads or self.adapter.threads()
        command = self.adapter.command(self.queue, threads, self.broker)
        env = self.environment(**settings)
        worker = Worker(command, env, self.folder / "worker.log", self.folder)
        self._made.append(worker)
        return worker

    def server(self, broker: str | None = None) -> Server:
        """The web app serving the page's kit (started); output in server.log."""
        env = self.environment(broker)
        server = Server(
            self.database,
            self.folder / "server.log",
            app="queue_app:web",
            path=env.pop("PYTHONPATH").split(os.pathsep),
            env=env,
            cwd=self.folder,
        )
        self._made.append(server)
        return server.start()

    def run(self, *args: str, broker: str | None = None) -> str:
        """``python *args`` in the project, in its environment; its output (exit 0)."""
        done = subprocess.run(
            [sys.executable, *args], env=self.environment(broker), cwd=self.folder,
            capture_output=True, text=True, timeout=DEADLINE, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def sweep_command(self, *options: str, broker: str | None = None) -> str:
        """The page's cron line, ``stripekit events sweep --app tasks:kit``; its output."""
        return self.run(
            "-m", "stripekit.cli", "events", "sweep", "--app", "tasks:kit", *options, broker=broker
        )

    @property
    def logs(self) -> list[Path]:
        return [self.folder / "worker.log", self.folder / "server.log"]

    def close(self) -> None:
        """Stop its processes; close the test's store and the handler's connections; drop
        its queues from the broker."""
        for process in self._made:
            if isinstance(process, Worker) and process.alive():
                # Nothing to wait for: Celery's warm shutdown on RabbitMQ takes seconds.
                process.kill()
            else:
                process.stop()
        self.kit.store.close()
        self._engine.dispose()
        self._drop_queues()

    def _drop_queues(self) -> None:
        """A shared broker keeps a durable queue for good: delete the test's (Dramatiq's
        delay and dead-letter queues with it) and its keys in Redis."""
        if self.adapter.scheme == "amqp":
            from kombu import Connection

            with Connection(AMQP_URL, connect_timeout=3) as connection:
                channel = connection.default_channel
                for name in (self.queue, f"{self.queue}.DQ", f"{self.queue}.XQ"):
                    channel.queue_delete(name)
            return
        from redis import Redis

        with Redis.from_url(REDIS_URL, socket_connect_timeout=3) as redis:
            keys = list(redis.scan_iter(match=f"*{self.queue}*"))
            if keys:
                redis.delete(*keys)


def post(
    server: Server,
    deliveries: Sequence[str],
    *,
    connections: int = 4,
    fail_first: Collection[str] = (),
    hang_first: Collection[str] = (),
) -> list[tuple[str, int | None]]:
    """Post a signed ``invoice.paid`` of each event id over HTTP, in order (an id twice:
    posted twice), over ``connections`` connections at once; ``(event id, status)`` each.
    The invoices of the ids in ``fail_first`` and ``hang_first`` say so to the handler."""
    requests = []
    for event_id in deliveries:
        obj: dict[str, Any] = {
            "id": f"in_{event_id}",
            "object": "invoice",
            "fail_first": event_id in fail_first,
            "hang_first": event_id in hang_first,
        }
        body, headers = signed_event("invoice.paid", obj, secret=SECRET, id=event_id)
        requests.append((event_id, raw_request(body, headers)))
    return asyncio.run(send_all(server.port, requests, connections))


# -- reading back --------------------------------------------------------------------------


def counts(database: str, table: str) -> Counter[str]:
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT event_id, count(*) FROM {table} GROUP BY event_id"))
            return Counter({event_id: number for event_id, number in rows})
    finally:
        engine.dispose()


def wait_until(
    condition: Callable[[], bool],
    what: str,
    log: Path | Sequence[Path] | None = None,
    state: Callable[[], object] | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail after DEADLINE seconds, with the processes'
    logs and ``state()`` (what the test was waiting on)."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            logs = [log] if isinstance(log, Path) else list(log or [])
            tail = "".join(
                f"\n--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                for path in logs
                if path.exists()
            )
            found = f" (found {state()})" if state is not None else ""
            pytest.fail(f"not within {DEADLINE:g} s: {what}{found}{tail}")
        time.sleep(0.05)


def statuses(kit: StripeKit) -> Counter[EventStatus]:
    return Counter(row.status for row in kit.store.list(limit=10_000))
