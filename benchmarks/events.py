"""Event latency: from a committed `recordPayment` (the mutation's response) to a subscriber
receiving its event over `graphql-transport-ws`, p50 and p99, with N subscribers connected.

    .venv/bin/python benchmarks/events.py [--subscribers 100] [--payments 50] [--database-url URL] [--poll]

It seeds a customer on a temporary SQLite database (or the given one, e.g. an empty PostgreSQL
database), spawns `o2c serve`, connects the subscribers (`events(types: ["o2c.payment.applied"])`),
records payments one at a time, and times each event's arrival at every subscriber. On
PostgreSQL the schema's NOTIFY trigger wakes the shared reader on commit; `--poll` drops it first,
to measure the polling fallback. The JSON also reports how many outbox reads the server's shared
reader made (`hubReads`): about one per payment, however many subscribers are connected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from server_process import Server, running_server

SUBSCRIPTION = 'subscription { events(types: ["o2c.payment.applied"]) { id cursor data } }'
PAYMENT = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }"""


def _seed(url: str) -> int:
    from datetime import date

    from engine import commands as c
    from engine.bootstrap import build_context
    from engine.clock import clock_for_date
    from engine.config import Settings
    from engine.service import Collections

    service = Collections(build_context(Settings(database_url=url), clock=clock_for_date(date(2026, 3, 2))))
    customer = service.create_customer(c.CreateCustomer("EV1", "Event bench", "smb", "EUR", 10**9))
    service.ctx.store.disconnect()
    return int(customer.id)


async def _subscriber(server: Server, arrivals: dict[str, list[float]], ready: asyncio.Event, n: int) -> None:
    async with websockets.connect(server.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {server.key}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                reference = message["payload"]["data"]["events"]["data"]["snapshot"].get("reference", "")
                arrivals.setdefault(str(reference), []).append(time.perf_counter())
            elif message["type"] in ("error", "complete"):
                return


async def _run(server: Server, customer_id: int, subscribers: int, payments: int) -> list[float]:
    arrivals: dict[str, list[float]] = {}
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = [asyncio.create_task(_subscriber(server, arrivals, readies[n], n)) for n in range(subscribers)]
    for r in readies:
        await r.wait()
    await asyncio.sleep(1.5)  # let every subscription take its starting position
    committed: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        for k in range(payments):
            reference = f"EVB-{k}"
            body = {
                "query": PAYMENT,
                "variables": {
                    "input": {
                        "customerId": str(customer_id),
                        "reference": reference,
                        "amount": {"amount": "1.00", "currency": "EUR"},
                        "receivedOn": "2026-03-02",
                    }
                },
            }
            response = await client.post(
                f"{server.url}/graphql", json=body, headers={"Authorization": f"Bearer {server.key}"}
            )
            committed[reference] = time.perf_counter()
            assert "errors" not in response.json(), response.json()
            await asyncio.sleep(0.05)
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline and sum(len(v) for v in arrivals.values()) < subscribers * payments:
        await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return [at - committed[ref] for ref, ats in arrivals.items() if ref in committed for at in ats]


def _drop_trigger(url: str) -> None:
    from engine.events.notify import TRIGGER
    from engine.store.database import Store
    from engine.store.unit_of_work import UnitOfWork

    store = Store(url)
    with UnitOfWork(store, write=True) as uow:
        uow.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON outbox" if store.is_postgres else "SELECT 1")
        uow.commit()
    store.disconnect()


def _metric(server: Server, name: str) -> float:
    for line in httpx.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--poll", action="store_true", help="drop the PostgreSQL NOTIFY trigger: measure polling")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/events.sqlite"
        customer_id = _seed(url)
        if args.poll:
            _drop_trigger(url)
        with running_server(url) as server:
            latencies = asyncio.run(_run(server, customer_id, args.subscribers, args.payments))
            reads = _metric(server, "o2c_event_hub_reads")
            notified = _metric(server, "o2c_event_hub_notified")
    expected = args.subscribers * args.payments
    result: dict[str, Any] = {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "wakeUp": "notify" if notified else "poll",
        "hubReads": int(reads),
        "subscribers": args.subscribers,
        "payments": args.payments,
        "received": len(latencies),
        "expected": expected,
    }
    if latencies:
        result |= {
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(_pct(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
        }
    print(json.dumps(result))
    return 0 if len(latencies) == expected else 1


if __name__ == "__main__":
    sys.exit(main())
