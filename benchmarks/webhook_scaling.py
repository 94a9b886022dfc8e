"""Requests per second of the kit's webhook route on PostgreSQL, with 1, 2 and 4 uvicorn workers.

Run: ``python benchmarks/webhook_scaling.py [--workers 1,2,4] [--requests N]
[--concurrency C] [--loaders L] [--rounds R] [--database-url URL]
[--variants batched,unbatched]``
(after ``pip install -e ".[bench,postgres]"``; PostgreSQL on 127.0.0.1:5432, database
``test``, by default).

The server is ``kit_postgres_app`` (_webhook_apps.py): ``stripekit_router``'s
``POST /stripe/webhook`` recording every event in a PostgreSQL event store (claim,
one ``async def`` handler, complete), served by ``uvicorn --workers N``, one
worker count at a time. Its tables get a prefix of their own
(``bench_<random>_``), dropped at the end.

The load comes from other processes (``--loaders``, 2 by default), each keeping
its share of C keep-alive connections busy with pre-built signed requests (as
webhook_endpoint.py does: a new event id per request). Meanwhile this process
samples PostgreSQL's ``pg_stat_activity`` every 50 ms and reports what the
server's sessions waited on: ``Lock`` waits would mean that workers queue behind
each other in the database (a claim contending with another).

``--variants`` compares store set-ups in one run, alternating them at each
worker count: ``batched`` (the store as shipped: the completions of concurrent
deliveries share a commit), ``unbatched`` (a commit per completion, in a
worker thread each, as before), ``no-ping`` (batched, without the pool's
liveness check on checkout); any with ``+pool=N`` for the pool size.

It prints, per worker count, the best round's requests/s and p99 latency, then
``2w/1w throughput=N.NNx (target: at least 1.5x)`` and
``4w/1w throughput=N.NNx (target: at least 2x)``.

On a 2-core machine the load generators, PostgreSQL and the workers share the
two cores: 2 workers can at best double one worker's throughput when one worker
is CPU-bound; 4 workers mostly show that the extra processes do not make it
worse (no contention collapse). The README says how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from webhook_endpoint import FIXTURES, SECRET, _requests, _worker

from stripekit._serving import free_port

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _serve(workers: int, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "_webhook_apps:kit_postgres_app", "--factory",
        "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=Path(__file__).parent, env=env)
    import socket

    for _ in range(400):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"uvicorn with {workers} workers did not start")


def _loader(port: int, count: int, concurrency: int, run: str, barrier: Any, results: Any) -> None:
    """One load-generating process: builds its requests, waits for the others, fires."""
    requests = _requests(count, run)
    barrier.wait()
    started = time.monotonic()
    latencies, statuses = asyncio.run(_fire(port, requests, concurrency))
    results.put((started, time.monotonic(), latencies, statuses))


async def _fire(
    port: int, requests: list[bytes], concurrency: int
) -> tuple[list[float], list[int]]:
    queue = list(reversed(requests))
    latencies: list[float] = []
    statuses: list[int] = []
    await asyncio.gather(*(_worker(port, queue, latencies, statuses) for _ in range(concurrency)))
    return latencies, statuses


def _round(port: int, args: argparse.Namespace, run: str) -> tuple[float, float]:
    """Requests/s and p99 of one round, the load split over ``--loaders`` processes."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.loaders)
    results = context.Queue()
    share, per_loader = args.requests // args.loaders, max(1, args.concurrency // args.loaders)
    loaders = [
        context.Process(
            target=_loader, args=(port, share, per_loader, f"{run}l{i}", barrier, results)
        )
        for i in range(args.loaders)
    ]
    for loader in loaders:
        loader.start()
    done = [results.get(timeout=600) for _ in loaders]
    for loader in loaders:
        loader.join()
    began = min(d[0] for d in done)
    ended = max(d[1] for d in done)
    latencies = [latency for d in done for latency in d[2]]
    bad = [status for d in done for status in d[3] if status != 200]
    if bad:
        raise SystemExit(f"{run}: {len(bad)} answers were not 200 (e.g. {bad[0]})")
    return len(latencies) / (ended - began), statistics.quantiles(latencies, n=100)[98]


class WaitSampler:
    """Samples what the benchmark's database sessions wait on, every 50 ms."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self.peak_sessions = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        query = (
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(_libpq(self.url), autocommit=True) as connection:
            # Busy ones only: the idle pools of the variants not under load do not count.
            sessions = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state <> 'idle' AND pid <> pg_backend_pid()"
            )
            while not self._stop.wait(0.05):
                self.samples += 1
                for (wait,) in connection.execute(query):
                    self.waits[wait] += 1
                (count,) = connection.execute(sessions).fetchone() or (0,)
                self.peak_sessions = max(self.peak_sessions, count)


def _report(waits: Counter[str]) -> str:
    if not waits:
        return "no active server session seen"
    total = sum(waits.values())
    top = ", ".join(f"{wait} {n / total:.0%}" for wait, n in waits.most_common(5))
    locks = sum(n for wait, n in waits.items() if wait.startswith("Lock:"))
    return f"{top}; Lock waits: {locks / total:.1%} of session samples"


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _tables(url: str) -> Iterator[str]:
    """A fresh table prefix; its tables are dropped at the end, whatever happens."""
    import psycopg

    prefix = f"bench_{uuid.uuid4().hex[:8]}_"
    try:
        yield prefix
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            for table in ("events", "schema_version"):
                connection.execute(f'DROP TABLE IF EXISTS "{prefix}{table}"')


VARIANTS = {
    "batched": {},
    "unbatched": {"BENCH_GROUP_COMMIT": "off"},
    "no-ping": {"BENCH_PRE_PING": "off"},
}
"""What ``--variants`` may name: the store as shipped (completions of concurrent
deliveries share a commit), and each completion committing alone (as before)."""


def _variant(name: str) -> dict[str, str]:
    """A variant's environment: a name from VARIANTS, with ``+pool=N`` for the pool size."""
    base, _, pool = name.partition("+pool=")
    if base not in VARIANTS or (pool and not pool.isdigit()):
        raise SystemExit(f"unknown variant {name!r}: use {', '.join(VARIANTS)} (+pool=N)")
    return {**VARIANTS[base], **({"BENCH_POOL_SIZE": pool} if pool else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--variants", default="batched", help="e.g. batched,unbatched")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--loaders", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    args = parser.parse_args()
    if not FIXTURES.exists():
        sys.exit(f"fixtures3.json not found at {FIXTURES}: set STRIPEKIT_SHARED to shared/")
    counts = [int(n) for n in args.workers.split(",")]
    variants = {name: _variant(name) for name in args.variants.split(",")}
    print(
        f"{args.requests} events a round, {args.concurrency} connections from {args.loaders} "
        f"load processes, PostgreSQL, uvicorn --workers N, best of {args.rounds}"
    )
    best: dict[tuple[str, int], tuple[float, float]] = {}
    with _tables(args.database_url) as prefix:
        env = {
            **os.environ,
            "BENCH_WEBHOOK_SECRET": SECRET,
            "BENCH_DATABASE_URL": args.database_url,
            "BENCH_TABLE_PREFIX": prefix,
        }
        for workers in counts:
            best.update(_measure(workers, variants, env, args))
    print()
    print("| variant | workers | requests/s | p99 (ms) |")
    print("| --- | ---: | ---: | ---: |")
    for (name, workers), (rps, p99) in best.items():
        print(f"| {name} | {workers} | {rps:.0f} | {p99 * 1000:.1f} |")
    for name in variants:
        if (name, 1) not in best:
            continue
        for workers, target in ((2, 1.5), (4, 2.0)):
            if (name, workers) in best:
                ratio = best[name, workers][0] / best[name, 1][0]
                print(f"{name}: {workers}w/1w throughput={ratio:.2f}x (target: at least {target}x)")


def _measure(
    workers: int, variants: dict[str, dict[str, str]], env: dict[str, str], args: argparse.Namespace
) -> dict[tuple[str, int], tuple[float, float]]:
    """Every variant's server up at once (idle but for its own rounds), the rounds
    alternating between them: a slow spell on a shared machine hits them alike."""
    with ExitStack() as stack:
        ports: dict[str, int] = {}
        for name, extra in variants.items():
            ports[name] = port = free_port()
            server = _serve(workers, port, {**env, **extra})
            stack.callback(_stop, server)
            # Every worker migrates (once) and warms up before the clock runs.
            warmup = argparse.Namespace(**{**vars(args), "requests": args.warmup})
            _round(port, warmup, f"{name}w{workers}warm")
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        waits: dict[str, Counter[str]] = {name: Counter() for name in variants}
        peaks: dict[str, int] = dict.fromkeys(variants, 0)
        for round_ in range(args.rounds):
            for name, port in ports.items():
                with WaitSampler(args.database_url) as sampler:
                    rounds[name].append(_round(port, args, f"{name}w{workers}r{round_}"))
                waits[name].update(sampler.waits)
                peaks[name] = max(peaks[name], sampler.peak_sessions)
        found: dict[tuple[str, int], tuple[float, float]] = {}
        for name in variants:
            found[name, workers] = top = max(rounds[name])
            print(
                f"{name}, {workers} worker(s): {top[0]:8.0f} requests/s   "
                f"p99 {top[1] * 1000:7.2f} ms   busy sessions: {peaks[name]} at most   "
                f"waits: {_report(waits[name])}",
                flush=True,
            )
        return found


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


if __name__ == "__main__":
    main()
