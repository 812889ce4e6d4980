"""GraphQL throughput and latency: the real server vs a bare strawberry floor, same run.

    .venv/bin/python benchmarks/graphql.py [--requests 800] [--concurrency 16] [--first 50]
        [--url URL --key KEY]       # measure a running server instead of spawning one

Without --url, it seeds a temporary SQLite database (customers, invoices, disputes, history),
spawns `o2c serve` on it, and spawns the floor: a bare strawberry schema on uvicorn that serves
the same query shape from memory. Both get the same query at the same concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx

QUERY = """query($first: Int!) { invoices(first: $first) { totalCount edges { node {
  number amount { amount currency } customer { name segment } disputes { state reasonCode }
  history(last: 5) { trigger toState at } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str, customers: int, invoices_each: int) -> None:
    from engine import commands as c
    from engine.bootstrap import build_context
    from engine.clock import clock_for_date
    from engine.config import Settings
    from engine.service import Collections
    from states.actors import person

    today = date(2026, 3, 2)
    service = Collections(build_context(Settings(database_url=url), clock=clock_for_date(today)))
    actor = person("bench")
    for n in range(customers):
        cust = service.create_customer(c.CreateCustomer(f"B{n}", f"Bench {n}", "smb", "EUR", 10**9))
        for k in range(invoices_each):
            due = today - timedelta(days=5 + 7 * k)
            inv = service.issue_invoice(
                c.IssueInvoice(cust.id, f"B{n}-{k}", 1000 + k, "EUR", due - timedelta(days=30), due), actor
            )
            service.transition_invoice(c.TransitionInvoice(inv.id, "mark_overdue", "bench"), actor)
            if k % 5 == 0:
                service.open_dispute(c.OpenDispute(inv.id, "pricing"), actor)
    service.ctx.store.disconnect()


@contextmanager
def _process(cmd: list[str], env: dict[str, str], ready: str) -> Iterator[list[str]]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if ready in line:
                break
        yield lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def _load(url: str, key: str | None, first: int, requests: int, concurrency: int) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"query": QUERY, "variables": {"first": first}}
    latencies: list[float] = []
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        warm = await client.post("/graphql", json=body)
        payload = warm.json()
        assert "errors" not in payload, payload
        assert len(payload["data"]["invoices"]["edges"]) == first

        async def worker() -> None:
            for _ in remaining:
                started = time.perf_counter()
                response = await client.post("/graphql", json=body)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _report(name: str, latencies: list[float], wall: float) -> float:
    ordered = sorted(latencies)
    rps = len(ordered) / wall
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:<8} {rps:8.1f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({len(ordered)} requests)")
    return rps


def _measure(url: str, key: str | None, args: argparse.Namespace) -> tuple[list[float], float]:
    started = time.perf_counter()
    latencies = asyncio.run(_load(url, key, args.first, args.requests, args.concurrency))
    return latencies, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--invoices-each", type=int, default=10)
    parser.add_argument("--url")
    parser.add_argument("--key")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1", "O2C_TODAY": "2026-03-02"}
    floor_port = _free_port()
    # Run the floor through runpy: as a script, benchmarks/ would be first on sys.path and this
    # file (graphql.py) would shadow the graphql-core package.
    floor = root / "benchmarks" / "graphql_floor.py"
    launch = f"import runpy, sys; sys.argv = ['floor', '{floor_port}', '{args.first}']; "
    floor_cmd = [sys.executable, "-c", launch + f"runpy.run_path({str(floor)!r}, run_name='__main__')"]
    print(f"query: invoices(first: {args.first}) with customer, disputes, last 5 history entries")
    print(f"concurrency {args.concurrency}, {args.requests} requests each, one uvicorn worker each")
    with tempfile.TemporaryDirectory() as tmp, _process(floor_cmd, env, "floor ready"):
        if args.url:
            url, key = args.url, args.key
        else:
            db = f"sqlite:///{tmp}/bench.sqlite"
            _seed(db, args.customers, args.invoices_each)
            port = _free_port()
            env_server = {**env, "O2C_DATABASE_URL": db, "O2C_DEMO_KEY": "1"}
            cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
            server = _process(cmd, env_server, "serving on")
            lines = server.__enter__()
            url, key = f"http://127.0.0.1:{port}", next(line for line in lines if line.startswith("o2c_"))
        try:
            _wait(f"{url}/healthz")
            _wait(f"http://127.0.0.1:{floor_port}/graphql")
            real = _report("o2c", *_measure(url, key, args))
            floor = _report("floor", *_measure(f"http://127.0.0.1:{floor_port}", None, args))
        finally:
            if not args.url:
                server.__exit__(None, None, None)
    print(f"ratio    o2c / floor = {real / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
