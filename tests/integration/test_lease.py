"""The leader lease: one holder at a time, renewed by its holder, taken over once it lapses — on
SQLite and PostgreSQL, and between two real `o2c worker` processes on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from datetime import time as dtime
from pathlib import Path

import psycopg2
import pytest
from cycle_support import STRATEGIES, Portfolio, clear_cycle_tables, notices, rows

from engine import lease
from engine.clock import FixedClock
from engine.config import Settings
from engine.cycle.partitions import open_partitions, pending_partitions
from engine.scheduler import LeaderScheduler
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.strategies_in_force import load_registry
from engine.worker import build_scheduler

NAME = lease.SCHEDULER_LEASE
O2C = str(Path(sys.executable).parent / "o2c")


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


def test_only_one_holder_gets_the_lease_and_its_holder_renews_it(store: Store, clock: FixedClock) -> None:
    now = clock.now()

    assert lease.acquire(store, NAME, "a", 30, now)
    assert not lease.acquire(store, NAME, "b", 30, now)
    assert lease.acquire(store, NAME, "a", 30, now + timedelta(seconds=20))  # renewed
    assert not lease.acquire(store, NAME, "b", 30, now + timedelta(seconds=40))  # renewal moved the expiry
    assert lease.holder_of(store, NAME, now + timedelta(seconds=40)) == "a"


def test_a_lease_whose_holder_died_on_this_host_is_taken_at_once_and_a_live_ones_is_not(
    store: Store, clock: FixedClock
) -> None:
    now = clock.now()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process of this host that is gone
    host = lease.new_holder().split(":", 1)[0]
    assert lease.acquire(store, NAME, f"{host}:{child.pid}:dead01", 30, now)

    assert lease.acquire(store, NAME, "restarted", 30, now)  # no waiting the 30 s out
    assert not lease.acquire(store, NAME, f"{host}:{os.getpid()}:other1", 30, now)  # "restarted" is no process
    live = lease.new_holder()  # this very process: alive
    lease.release(store, NAME, "restarted")
    assert lease.acquire(store, NAME, live, 30, now)
    assert not lease.acquire(store, NAME, "another", 30, now)


def test_another_holder_takes_over_once_the_lease_lapses(store: Store, clock: FixedClock) -> None:
    now = clock.now()
    assert lease.acquire(store, NAME, "a", 30, now)

    later = now + timedelta(seconds=31)
    assert lease.holder_of(store, NAME, later) is None
    assert lease.acquire(store, NAME, "b", 30, later)
    assert not lease.acquire(store, NAME, "a", 30, later)  # the old holder lost it
    assert lease.holder_of(store, NAME, later) == "b"


def test_releasing_lets_the_next_holder_in_at_once_but_only_the_holder_can_release(
    store: Store, clock: FixedClock
) -> None:
    now = clock.now()
    assert lease.acquire(store, NAME, "a", 30, now)

    lease.release(store, NAME, "b")
    assert lease.holder_of(store, NAME, now) == "a"
    lease.release(store, NAME, "a")

    assert lease.holder_of(store, NAME, now) is None
    assert lease.acquire(store, NAME, "b", 30, now)


def test_the_leader_keeps_its_lease_while_a_cycle_runs_longer_than_the_lease(
    store: Store, clock: FixedClock, database_url: str
) -> None:
    # The lease's time is the injected clock: the cycle below moves it 0.4 s per step, ten steps
    # against a 0.6 s lease, and each step waits (in real time, as long as a loaded box needs)
    # until the keep-alive thread has renewed the lease at the new time. Without renewals beside
    # the busy tick the lease would lapse at the second step.
    ctx = Context(store=store, clock=clock, settings=Settings(database_url=database_url))
    seen: list[str | None] = []
    renewed: list[bool] = []

    def long_daily(_today: date) -> None:
        for _ in range(10):
            clock.set(clock.now() + timedelta(seconds=0.4))
            seen.append(lease.holder_of(store, NAME, clock.now()))
            renewed.append(
                _until(lambda: lease.holder_of(store, NAME, clock.now() + timedelta(seconds=0.5)) is not None)
            )

    scheduler = LeaderScheduler(ctx, long_daily, lambda _today: None, dtime(0, 0), tick_seconds=60, lease_seconds=0.6)
    scheduler.start()
    try:
        assert _until(lambda: len(renewed) == 10, seconds=120)
    finally:
        scheduler.stop()

    assert seen == [scheduler.holder] * 10  # 4 s of the lease's clock: never lapsed, never someone else
    assert renewed == [True] * 10


def _until(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_standby_works_the_open_partitions_of_the_running_cycle_on_its_tick(
    store: Store, clock: FixedClock, database_url: str
) -> None:
    ctx = Context(store=store, clock=clock, settings=Settings(database_url=database_url))
    book = Portfolio(Collections(ctx), clock.today())
    book.customer("late", "smb", "high")
    invoice = book.invoice("late", 10)
    open_partitions(ctx, clock.today(), 2)
    assert lease.acquire(store, NAME, "the-leader", 300, clock.now())  # someone else leads
    standby = build_scheduler(ctx, load_registry(STRATEGIES), dtime(0, 0), partitions=2)

    standby.tick()

    assert not standby.is_leader
    assert pending_partitions(ctx, clock.today()) == 0
    assert notices(store, invoice) == [("dun", "smb_dunning_1", 1, clock.today().isoformat())]
    runs = rows(store, "SELECT status FROM cycle_run")
    assert runs == ["done"]


# ---------------------------------------------------------------- two worker processes (PostgreSQL)


def _holder(url: str) -> str | None:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT holder FROM lease WHERE name = %s AND expires_at > NOW() AT TIME ZONE 'UTC'", (NAME,))
            row = cur.fetchone()
            return str(row[0]) if row else None
    finally:
        conn.close()


def _pid_of(holder: str | None) -> int | None:
    return int(holder.split(":")[1]) if holder else None


def _wait_for(url: str, pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _pid_of(_holder(url)) == pid:
            return True
        time.sleep(0.2)
    return False


def _worker(url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "O2C_DATABASE_URL": url,
        "O2C_STRATEGIES_DIR": str(STRATEGIES),
        "O2C_CYCLE_AT": "00:00",
    }
    return subprocess.Popen(
        [O2C, "worker", "--tick", "0.3", "--lease", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.fixture
def empty_pg(pg_database: str) -> Iterator[str]:
    def truncate() -> None:
        conn = psycopg2.connect(pg_database)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "TRUNCATE lease, cycle_partition, cycle_run, notice, collector_task, invoice, customer, "
                "transition_history, outbox RESTART IDENTITY CASCADE"
            )
        conn.close()

    truncate()
    yield pg_database
    truncate()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_on_postgresql_one_leads_and_the_other_takes_over_when_the_leader_is_killed(
    empty_pg: str,
) -> None:
    first = _worker(empty_pg)
    second: subprocess.Popen[str] | None = None
    try:
        assert _wait_for(empty_pg, first.pid, 30), "the first worker never took the lease"
        second = _worker(empty_pg)
        # while the first one lives, the second stands by (it keeps trying every tick)
        for _ in range(15):
            time.sleep(0.2)
            assert _pid_of(_holder(empty_pg)) == first.pid
            assert second.poll() is None

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        assert _wait_for(empty_pg, second.pid, 30), "the standby never took over after the lease lapsed"
        assert second.poll() is None
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
