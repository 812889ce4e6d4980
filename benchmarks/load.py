"""Load: mixed GraphQL reads and mutations against two API processes on PostgreSQL, at rising
concurrency; throughput, p50, p99 and the error count (which must be 0) per step and overall.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--steps 4,8,16,32] [--customers 2000]
        [--invoices 20000] [--pg postgresql://postgres@127.0.0.1:5432]

It creates a fresh database, seeds it with `o2c demo` (business date pinned), starts two
`o2c serve --no-scheduler` processes on free ports, and runs `--seconds` split evenly over the
steps. Clients alternate between the two servers. The mix (weights): invoices page with customer
(25), worklist page (20), invoice with its history (25), recordPayment (20), recordPromiseToPay
(10). Each client works its own customers (id mod concurrency), so mutations never race one
another; a promise goes to an invoice that can take one, each invoice once. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 3, 2)
MIX = (("invoices", 25), ("worklist", 20), ("invoice", 25), ("payment", 20), ("promise", 10))

INVOICES = """query($after: String) { invoices(first: 20, after: $after, orderBy: DUE_DATE_ASC) {
  totalCount pageInfo { endCursor } edges { node { id number state dunningLevel daysPastDue
  openAmount { amount currency } customer { id name segment riskClass } } } } }"""
WORKLIST = """{ worklist(first: 20) { totalCount edges { node { priority reason daysPastDue
  moneyAtRisk { amount currency } invoice { id number state } customer { id name } } } } }"""
INVOICE = """query($id: ID!) { invoice(id: $id) { id number state openAmount { amount } customer { name }
  history(last: 10) { trigger fromState toState actor at } } }"""
PAYMENT = "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }"
PROMISE = "mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { id } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fresh_database(pg: str) -> Iterator[str]:
    name = f"o2c_load_{os.getpid()}"
    admin = psycopg2.connect(f"{pg}/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"{pg}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def env_for(url: str) -> dict[str, str]:
    return {**os.environ, "O2C_DATABASE_URL": url, "O2C_TODAY": TODAY.isoformat(), "PYTHONUNBUFFERED": "1"}


def o2c(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env_for(url), cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout


@contextmanager
def api_process(url: str, log: Path) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "api.cli", "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env_for(url), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API on port {port} did not become ready; see {log}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Portfolio:
    customers: list[tuple[int, str]]  # (id, currency)
    invoice_ids: list[int]
    promisable: dict[int, list[tuple[int, int]]]  # customer id → [(invoice id, open amount minor)]


def load_portfolio(url: str) -> Portfolio:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, currency FROM customer ORDER BY id")
            customers = [(int(i), str(c)) for i, c in cur.fetchall()]
            cur.execute("SELECT id FROM invoice ORDER BY id")
            invoice_ids = [int(r[0]) for r in cur.fetchall()]
            cur.execute(
                "SELECT customer, id, open_amount FROM invoice"
                " WHERE state IN ('open', 'overdue', 'dunning', 'escalated') AND open_amount >= 10000 ORDER BY id"
            )
            promisable: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for customer, invoice, amount in cur.fetchall():
                promisable[int(customer)].append((int(invoice), int(amount)))
    finally:
        conn.close()
    return Portfolio(customers, invoice_ids, dict(promisable))


@dataclass
class Sample:
    op: str
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Client:
    index: int
    customers: list[tuple[int, str]]
    promisable: list[tuple[int, int]]
    rng: random.Random
    samples: list[Sample] = field(default_factory=list)
    payments: int = 0


def _body(op: str, client: Client, portfolio: Portfolio) -> dict[str, Any]:
    rng = client.rng
    if op == "invoices":
        return {"query": INVOICES, "variables": {"after": None}}
    if op == "worklist":
        return {"query": WORKLIST}
    if op == "invoice":
        return {"query": INVOICE, "variables": {"id": str(rng.choice(portfolio.invoice_ids))}}
    if op == "payment":
        customer, currency = rng.choice(client.customers)
        client.payments += 1
        reference = f"LOAD-{client.index}-{client.payments}-{rng.getrandbits(32):08x}"
        money = {"amount": "0.01", "currency": currency}
        payment = {"customerId": str(customer), "reference": reference, "amount": money, "receivedOn": str(TODAY)}
        return {"query": PAYMENT, "variables": {"input": payment}}
    invoice, _open = client.promisable.pop()
    promise = {"invoiceId": str(invoice), "amount": "1.00", "promisedDate": str(TODAY + timedelta(days=7))}
    return {"query": PROMISE, "variables": {"input": promise}}


async def run_client(
    client: Client, http: httpx.AsyncClient, bases: list[str], key: str, portfolio: Portfolio, until: float
) -> None:
    ops = [op for op, _w in MIX]
    weights = [w for _op, w in MIX]
    headers = {"Authorization": f"Bearer {key}"}
    n = client.index
    while time.perf_counter() < until:
        op = client.rng.choices(ops, weights)[0]
        if op == "promise" and not client.promisable:
            op = "payment"
        if op in ("payment", "promise") and not client.customers:
            op = "invoice"
        body = _body(op, client, portfolio)
        base = bases[n % len(bases)]
        n += 1
        started = time.perf_counter()
        try:
            response = await http.post(f"{base}/graphql", json=body, headers=headers)
            payload = response.json()
            ok = response.status_code == 200 and not payload.get("errors")
            error = "" if ok else json.dumps(payload.get("errors") or response.status_code)[:300]
        except (httpx.HTTPError, ValueError) as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
        client.samples.append(Sample(op, time.perf_counter() - started, ok, error))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summarize(samples: list[Sample], seconds: float) -> dict[str, Any]:
    latencies = [s.seconds for s in samples]
    out: dict[str, Any] = {
        "requests": len(samples),
        "errors": sum(not s.ok for s in samples),
        "throughput_rps": round(len(samples) / seconds, 1) if seconds else 0.0,
    }
    if latencies:
        out |= {
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(_pct(latencies, 99) * 1000, 1),
        }
    out["by_op"] = dict(sorted(Counter(s.op for s in samples).items()))
    return out


async def run_step(bases: list[str], key: str, portfolio: Portfolio, concurrency: int, seconds: float) -> list[Sample]:
    clients = []
    for k in range(concurrency):
        mine = [c for c in portfolio.customers if c[0] % concurrency == k]
        promisable = [inv for c, _cur in mine for inv in portfolio.promisable.get(c, [])]
        clients.append(Client(k, mine, promisable, random.Random(1000 * concurrency + k)))
    # Idle connections expire before uvicorn's 5 s keep-alive does: reusing one the server is just
    # closing would count a client-side race as a server error.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(run_client(c, http, bases, key, portfolio, until) for c in clients))
    for c in clients:  # an invoice takes one promise: only the untouched ones go on to the next step
        left = set(c.promisable)
        for customer, _cur in c.customers:
            portfolio.promisable[customer] = [i for i in portfolio.promisable.get(customer, []) if i in left]
    return [s for c in clients for s in c.samples]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="total, split evenly over the steps")
    parser.add_argument("--steps", default="4,8,16,32", help="concurrency of each step")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=20000)
    parser.add_argument("--pg", default=os.environ.get("O2C_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",") if s.strip()]
    per_step = args.seconds / len(steps)
    results: list[dict[str, Any]] = []
    every: list[Sample] = []
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="o2c-load-")))
        url = stack.enter_context(fresh_database(args.pg))
        o2c(url, "db", "upgrade")
        o2c(url, "demo", "--customers", str(args.customers), "--invoices", str(args.invoices))
        key = o2c(url, "keys", "create", "--role", "admin", "--name", "load benchmark").strip().splitlines()[-1]
        portfolio = load_portfolio(url)
        bases = [stack.enter_context(api_process(url, logs / f"api-{k}.log")) for k in (1, 2)]
        for concurrency in steps:
            samples = asyncio.run(run_step(bases, key, portfolio, concurrency, per_step))
            step = {"concurrency": concurrency, "seconds": round(per_step, 1), **summarize(samples, per_step)}
            results.append(step)
            every.extend(samples)
            print(
                f"concurrency {concurrency:>3}: {step['throughput_rps']:>7} req/s  p50 {step.get('p50_ms')} ms"
                f"  p99 {step.get('p99_ms')} ms  errors {step['errors']}",
                flush=True,
            )
            for s in [s for s in samples if not s.ok][:3]:
                print(f"  error in {s.op}: {s.error}", file=sys.stderr)
    overall = summarize(every, args.seconds)
    report = {
        "benchmark": "load",
        "database": "postgresql",
        "api_processes": 2,
        "customers": args.customers,
        "invoices": args.invoices,
        "steps": results,
        "overall": overall,
    }
    print(json.dumps(report))
    return 0 if overall["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
