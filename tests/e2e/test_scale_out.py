"""Scale-out on PostgreSQL, as processes: two API servers without a scheduler and two `o2c worker`
processes (scheduler under the leader lease + webhook dispatcher) on one fresh database.

The tests run in order on one topology (module scope):
1. the daily cycle of the pinned date runs exactly once and equals a single-process reference run
   on an identically seeded database;
2. the events of that cycle reach a real loopback webhook receiver through both workers' dispatchers,
   each delivery sent once;
3. a subscription on API A receives the events of mutations sent to API B;
4. killing the leader (SIGKILL) hands the lease to the standby within the lease time; the next business
   date (a new pair of workers, as `O2C_TODAY` pins one date per process) runs exactly once even though
   its leader is killed as soon as it leads, and ends where the reference run ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg2
import pytest
import websockets
from integration.webhook_receiver import Receiver, running_receiver
from server_process import Server, running_server

from engine.bootstrap import build_context
from engine.clock import FixedClock, clock_for_date
from engine.config import Settings
from engine.keys import create_key
from engine.strategies_in_force import load_registry
from engine.worker import build_scheduler

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
O2C = str(Path(sys.executable).parent / "o2c")
DAY = date(2026, 3, 2)
NEXT_DAY = DAY + timedelta(days=1)
TICK_S, LEASE_S = 0.5, 3.0
CUSTOMERS, INVOICES = 300, 3000
WAIT_S = 120.0  # a bound for things to happen, not a timing assertion
PROBE = "SCALE-"  # external refs of customers this test adds (left out of the comparisons)
T = TypeVar("T")


# ---------------------------------------------------------------------------------- helpers


def _wait(what: str, probe: Callable[[], T | None], seconds: float = WAIT_S, every: float = 0.1) -> T:
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def _rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def _env(url: str, today: date) -> dict[str, str]:
    return {
        **os.environ,
        "O2C_DATABASE_URL": url,
        "O2C_TODAY": today.isoformat(),
        "O2C_STRATEGIES_DIR": str(ROOT / "strategies"),
        "PYTHONUNBUFFERED": "1",
    }


def _seed(url: str) -> None:
    """The seeded demo portfolio (numpy, seed 42): identical on every database."""
    for args in (["db", "upgrade"], ["demo", "--customers", str(CUSTOMERS), "--invoices", str(INVOICES)]):
        subprocess.run([O2C, *args], env=_env(url, DAY), check=True, capture_output=True, timeout=300)


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def _start_worker(url: str, today: date, log: Path) -> Worker:
    env = _env(url, today) | {
        "O2C_CYCLE_AT": "00:00",
        "O2C_TICK_SECONDS": str(TICK_S),
        "O2C_LEASE_SECONDS": str(LEASE_S),
        "O2C_DISPATCH_IDLE": "0.2",
        "O2C_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen([O2C, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
    return Worker(proc, log)


def _stop(worker: Worker, sig: int = signal.SIGTERM) -> None:
    if worker.proc.poll() is None:
        worker.proc.send_signal(sig)
        try:
            worker.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()


def _leader_pid(url: str) -> int | None:
    """The process holding the scheduler lease. (Its expiry is on the workers' clock, which runs
    from noon of the pinned date: a change of holder is what shows a takeover.)"""
    rows = _rows(url, "SELECT holder FROM lease WHERE name = 'scheduler'")
    return int(str(rows[0][0]).split(":")[1]) if rows else None


def _cycle_runs(url: str, day: date) -> list[tuple[str, dict[str, Any]]]:
    return [
        (str(s), dict(json.loads(st) if isinstance(st, str) else st))
        for s, st in _rows(url, "SELECT status, stats FROM cycle_run WHERE business_date = %s", (day,))
    ]


def _notices(url: str, day: date) -> list[tuple[Any, ...]]:
    return sorted(
        _rows(
            url,
            "SELECT n.invoice, n.kind, n.level, n.rule, n.template FROM notice n JOIN customer c ON c.id = n.customer"
            " WHERE n.business_date = %s AND c.external_ref NOT LIKE %s",
            (day, PROBE + "%"),
        )
    )


def _invoices(url: str) -> list[tuple[Any, ...]]:
    return sorted(
        _rows(
            url,
            "SELECT i.id, i.state, i.dunning_level, i.open_amount FROM invoice i JOIN customer c ON c.id = i.customer"
            " WHERE c.external_ref NOT LIKE %s",
            (PROBE + "%",),
        )
    )


def _holds(url: str) -> list[tuple[Any, ...]]:
    return sorted(
        _rows(
            url,
            "SELECT h.customer, h.reason, h.released_at IS NULL FROM credit_hold h JOIN customer c ON c.id = h.customer"
            " WHERE c.external_ref NOT LIKE %s",
            (PROBE + "%",),
        )
    )


@dataclass
class Reference:
    """What one process running the same scheduler ticks leaves behind, per business date."""

    runs: dict[date, list[tuple[str, dict[str, Any]]]]
    notices: dict[date, list[tuple[Any, ...]]]
    invoices: list[tuple[Any, ...]]
    holds: list[tuple[Any, ...]]


def _reference_run(url: str) -> Reference:
    """One process, the workers' own scheduler tick (lease, cycle, timers), one tick per date."""
    clock: FixedClock = clock_for_date(DAY)
    ctx = build_context(Settings(database_url=url, today=DAY.isoformat()), clock=clock)
    scheduler = build_scheduler(ctx, load_registry(ROOT / "strategies"), datetime.min.time(), TICK_S, LEASE_S)
    try:
        runs, notices = {}, {}
        for day in (DAY, NEXT_DAY):
            clock.set(clock_for_date(day).now())
            scheduler.tick()
            runs[day], notices[day] = _cycle_runs(url, day), _notices(url, day)
        return Reference(runs, notices, _invoices(url), _holds(url))
    finally:
        ctx.store.disconnect()


# ---------------------------------------------------------------------------------- topology


@dataclass
class Topology:
    url: str
    reference: Reference
    api_a: Server
    api_b: Server
    receiver: Receiver
    workers: list[Worker]
    logs: Path
    endpoint_id: str


@pytest.fixture(scope="module")
def topology(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    host = pg_database.rsplit("/", 1)[0]
    names = [f"o2c_scale_{os.getpid()}_{k}" for k in ("live", "reference")]
    admin = psycopg2.connect(pg_database)
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    live, reference_url = (f"{host}/{name}" for name in names)
    logs = tmp_path_factory.mktemp("scale-out")
    workers: list[Worker] = []
    try:
        for url in (live, reference_url):
            _seed(url)
        reference = _reference_run(reference_url)
        with ExitStack() as stack:
            # API replicas: no scheduler in them (O2C_SCHEDULER=0 is `o2c serve --no-scheduler`).
            mp = stack.enter_context(pytest.MonkeyPatch.context())
            mp.setenv("O2C_SCHEDULER", "0")
            mp.setenv("O2C_WEBHOOK_ALLOW_PRIVATE", "1")  # the receiver listens on 127.0.0.1
            mp.setenv("O2C_STRATEGIES_DIR", str(ROOT / "strategies"))
            api_a = stack.enter_context(running_server(live, DAY.isoformat()))
            api_b = stack.enter_context(running_server(live, DAY.isoformat()))
            ctx = build_context(Settings(database_url=live), migrate=False)
            _principal, key = create_key(ctx, "admin", "scale-out test")
            ctx.store.disconnect()
            api_a, api_b = replace(api_a, key=key), replace(api_b, key=key)
            receiver = stack.enter_context(running_receiver())
            registered = api_a.graphql(
                "mutation($url: String!) { registerWebhook(input: {url: $url}) { endpoint { id } secret } }",
                {"url": receiver.url},
            )
            assert "errors" not in registered, registered
            endpoint_id = registered["data"]["registerWebhook"]["endpoint"]["id"]
            workers.extend(_start_worker(live, DAY, logs / f"worker-{k}.log") for k in (1, 2))
            yield Topology(live, reference, api_a, api_b, receiver, workers, logs, endpoint_id)
    finally:
        for w in workers:
            _stop(w, signal.SIGKILL)
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ---------------------------------------------------------------------------------- the tests


def test_exactly_one_cycle_runs_for_the_day_and_it_equals_a_single_process_run(topology: Topology) -> None:
    runs = _wait("the cycle of the day", lambda: [r for r in _cycle_runs(topology.url, DAY) if r[0] == "done"])

    assert topology.reference.runs[DAY][0][1]["applied"] > 0  # the day has work to do
    time.sleep(3 * TICK_S)  # more ticks of both workers: still nothing runs again
    assert _cycle_runs(topology.url, DAY) == runs
    assert len(runs) == 1
    (_status, stats), ((_ref_status, ref_stats),) = runs[0], topology.reference.runs[DAY]
    for key in ("applied", "notices", "tasks", "by_rule"):
        assert stats[key] == ref_stats[key], key
    assert _notices(topology.url, DAY) == topology.reference.notices[DAY]
    assert all(w.proc.poll() is None for w in topology.workers)


def test_webhook_deliveries_are_spread_over_both_workers_and_none_is_sent_twice(topology: Topology) -> None:
    url = topology.url

    def settled() -> int | None:
        top = _rows(url, "SELECT COALESCE(MAX(id), 0) FROM outbox")[0][0]
        cursor = _rows(url, "SELECT holder FROM lease WHERE name = 'webhooks.fanout-cursor'")[0][0]
        pending = _rows(url, "SELECT COUNT(*) FROM webhook_delivery WHERE status <> 'succeeded'")[0][0]
        total = int(_rows(url, "SELECT COUNT(*) FROM webhook_delivery")[0][0])
        return total if int(cursor) >= int(top) and pending == 0 and total else None

    _wait("the cycle's outbox events delivered", lambda: _cycle_runs(url, DAY))
    deliveries = _wait("every webhook delivery to succeed", settled)

    ids = topology.receiver.ids()
    assert deliveries > 300  # the day's cycle published many events
    assert len(ids) == len(set(ids)) == deliveries  # each webhook-id seen once
    event_ids = {
        str(r[0])
        for r in _rows(url, "SELECT o.event_id FROM webhook_delivery d JOIN outbox o ON o.id = d.event_position")
    }
    assert set(ids) == event_ids
    attempts = _rows(url, "SELECT dispatcher, COUNT(*) FROM webhook_attempt GROUP BY dispatcher")
    assert sum(int(n) for _d, n in attempts) == deliveries  # one attempt each: nothing sent twice
    pids = {int(str(d).split(":")[1]) for d, _n in attempts}
    assert pids == {w.pid for w in topology.workers}, attempts


def _subscribe_and_mutate(topology: Topology) -> list[dict[str, Any]]:
    a, b = topology.api_a, topology.api_b
    wanted = ["o2c.customer.created", "o2c.invoice.issued", "o2c.payment.applied", "o2c.invoice.state_changed"]
    query = "subscription($types: [String!]) { events(types: $types) { id type subject customerId data } }"

    async def run() -> list[dict[str, Any]]:
        subprotocol = websockets.Subprotocol("graphql-transport-ws")
        async with websockets.connect(a.ws_url, subprotocols=[subprotocol]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {a.key}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"types": wanted}}}
                )
            )

            async def next_event(seconds: float) -> dict[str, Any] | None:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=seconds))
                except TimeoutError:
                    return None
                assert message["type"] == "next", message
                return dict(message["payload"]["data"]["events"])

            # A subscription starts at the log's end: a probe customer made on B proves it is live.
            customer_id = ""
            for attempt in range(20):
                created = await asyncio.to_thread(
                    b.graphql,
                    'mutation($ref: String!) { createCustomer(input: {externalRef: $ref, name: $ref, segment: "smb",'
                    ' currency: "EUR", creditLimit: "100000.00"}) { id } }',
                    {"ref": f"{PROBE}{attempt}"},
                )
                customer_id = created["data"]["createCustomer"]["id"]
                first = await next_event(3.0)
                if first is not None:
                    break
            else:
                raise AssertionError("API A's subscription never saw a customer created through API B")
            issued = await asyncio.to_thread(
                b.graphql,
                'mutation($c: ID!) { issueInvoice(input: {customerId: $c, number: "SCALE-INV-1",'
                ' amount: {amount: "250.00", currency: "EUR"}, issueDate: "2026-03-01",'
                ' dueDate: "2026-06-01"}) { id } }',
                {"c": customer_id},
            )
            assert "errors" not in issued, issued
            paid = await asyncio.to_thread(
                b.graphql,
                'mutation($c: ID!) { recordPayment(input: {customerId: $c, reference: "SCALE-PAY-1",'
                ' amount: {amount: "250.00", currency: "EUR"}, receivedOn: "2026-03-02"}) { id } }',
                {"c": customer_id},
            )
            assert "errors" not in paid, paid
            seen: list[dict[str, Any]] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(e["type"] == "o2c.payment.applied" for e in seen):
                event = await next_event(5.0)
                if event is not None and str(event.get("customerId")) == customer_id:
                    seen.append(event)
            return seen

    return asyncio.run(run())


def test_a_subscription_on_one_api_receives_the_events_of_mutations_sent_to_the_other(topology: Topology) -> None:
    seen = _subscribe_and_mutate(topology)

    types = [e["type"] for e in seen]
    assert "o2c.invoice.issued" in types
    assert "o2c.payment.applied" in types
    assert len({e["id"] for e in seen}) == len(seen)


def test_killing_the_leader_hands_over_the_lease_and_the_next_date_runs_exactly_once(topology: Topology) -> None:
    url, workers = topology.url, topology.workers
    leader_pid = _wait("a leader", lambda: _leader_pid(url))
    leader = next(w for w in workers if w.pid == leader_pid)
    standby = next(w for w in workers if w.pid != leader_pid)

    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(timeout=10)
    _wait("the standby to take the lease", lambda: _leader_pid(url) == standby.pid, seconds=LEASE_S + 5 * TICK_S + 5)
    time.sleep(3 * TICK_S)  # the new leader ticks: the day stays done once
    assert len(_cycle_runs(url, DAY)) == 1
    assert _notices(url, DAY) == topology.reference.notices[DAY]

    # The next business date: a new pair of workers (a deploy after midnight); its leader is
    # killed as soon as it leads — mid-cycle or just after — and the other one finishes the date.
    _stop(standby)
    pair = [_start_worker(url, NEXT_DAY, topology.logs / f"worker-next-{k}.log") for k in (1, 2)]
    workers.extend(pair)
    first_pid = _wait(
        "a leader for the next date", lambda: _leader_pid(url) in {w.pid for w in pair} and _leader_pid(url), every=0.02
    )
    first = next(w for w in pair if w.pid == first_pid)
    second = next(w for w in pair if w.pid != first_pid)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)

    _wait(
        "the other worker to take the lease", lambda: _leader_pid(url) == second.pid, seconds=LEASE_S + 5 * TICK_S + 5
    )
    runs = _wait("the next date's cycle", lambda: [r for r in _cycle_runs(url, NEXT_DAY) if r[0] == "done"])
    time.sleep(3 * TICK_S)  # timers of the date, and no second run
    assert len(_cycle_runs(url, NEXT_DAY)) == len(runs) == 1
    assert _notices(url, NEXT_DAY) == topology.reference.notices[NEXT_DAY]
    assert _invoices(url) == topology.reference.invoices
    assert _holds(url) == topology.reference.holds
    assert second.proc.poll() is None
