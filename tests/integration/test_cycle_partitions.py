"""The partitioned cycle: a date's customers split into slices that several worker processes
claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and work. Whatever the interleaving, and when a
worker dies mid-slice, the database ends exactly as one uninterrupted single-process run."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cycle_support import Portfolio, clear_cycle_tables, shipped_strategies
from test_cycle_crash import (  # the crash tests' portfolio, reference run and snapshot
    DAY,
    _query,
    build_portfolio,
    snapshot,
    strategies_dir,
    template,
    uninterrupted,
)

from engine.cycle.partitions import boundaries, claim, open_partitions, work_partitions
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store

__all__ = ["strategies_dir", "template", "uninterrupted"]  # fixtures used by name (pg_url is in conftest)
SUPPORT = Path(__file__).resolve().parent / "cycle_support.py"


def test_partition_boundaries_cover_every_customer_id_in_contiguous_balanced_ranges() -> None:
    counts = [(c, 10 if c < 50 else 1) for c in range(1, 101)]  # the first half owns most invoices

    ranges = boundaries(counts, 4)

    assert ranges[0][0] is None and ranges[-1][1] is None  # open-ended: held accounts without invoices too
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end is not None and start == end + 1
    per_range = [sum(n for c, n in counts if (a is None or c >= a) and (b is None or c <= b)) for a, b in ranges]
    assert max(per_range) - min(per_range) <= 12
    assert boundaries(counts, 1) == [(None, None)]


def test_partitions_open_once_per_date_and_each_is_claimed_by_one_holder_at_a_time(ctx: Context) -> None:
    clear_cycle_tables(ctx.store)
    assert open_partitions(ctx, DAY, 3)
    assert open_partitions(ctx, DAY, 5)  # already open: the first count stands
    first = claim(ctx, DAY, "elsewhere:1:a", 60)
    second = claim(ctx, DAY, "elsewhere:1:b", 60)

    assert _count(ctx.store, "SELECT COUNT(*) FROM cycle_partition") == (1,)  # no invoices: one slice
    assert first is not None and (first.first_customer, first.last_customer) == (None, None)
    assert second is None  # held under a live lease


def _count(store: Store, sql: str) -> tuple[int, ...]:
    return tuple(int(v) for v in _query(store.url, sql)[0])


@pytest.mark.slow
def test_a_date_in_several_partitions_worked_in_one_process_ends_like_one_uninterrupted_run(
    template: Path, strategies_dir: Path, uninterrupted: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "o2c.sqlite"
    build_portfolio(f"sqlite:///{path}")
    url = f"sqlite:///{path}"

    done = _run(url, strategies_dir, 5)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["partitions_worked"] == 5
    assert snapshot(url) == uninterrupted["db"]


def _run(url: str, strategies: Path, parts: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SUPPORT), url, str(strategies), DAY.isoformat(), str(parts), *extra],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _start(url: str, strategies: Path, parts: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SUPPORT), url, str(strategies), DAY.isoformat(), str(parts), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _holders(url: str) -> Counter[str]:
    return Counter(str(h) for (h,) in _query(url, "SELECT holder FROM cycle_partition"))


@pytest.mark.slow
@pytest.mark.postgres
def test_two_worker_processes_on_postgresql_share_the_partitions_and_end_like_one_uninterrupted_run(
    pg_url: str, strategies_dir: Path, uninterrupted: dict[str, Any]
) -> None:
    build_portfolio(pg_url)

    # slow chunks, so that both are at work at the same time
    workers = [_start(pg_url, strategies_dir, 6, "--chunk-pause", "0.2") for _ in range(2)]
    results = [w.communicate(timeout=240) for w in workers]

    for worker, (_out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    worked = [json.loads(out.strip().splitlines()[-1])["partitions_worked"] for out, _ in results]
    assert sum(worked) == 6
    assert len(_holders(pg_url)) == 2  # both claimed some
    db = snapshot(pg_url)
    assert db == uninterrupted["db"]
    per_invoice_and_date = Counter((number, day) for number, day, _, _ in db["notices"].elements())
    assert max(per_invoice_and_date.values()) == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_mid_partition_on_postgresql_is_taken_over_after_its_lease_exactly_once(
    pg_url: str, strategies_dir: Path, uninterrupted: dict[str, Any]
) -> None:
    build_portfolio(pg_url)

    killed = _run(pg_url, strategies_dir, 3, "--kill-after-chunk", "1", "--lease", "2")
    (held,) = _query(pg_url, "SELECT holder FROM cycle_partition WHERE status = 'running'")
    written = sum(snapshot(pg_url)["notices"].values())
    # the survivor may not reap the dead holder by its pid: it has to wait the 2 s lease out
    survivor = _run(pg_url, strategies_dir, 3, "--wait-for-lease")

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert 0 < written < uninterrupted["report"]["notices"]
    assert survivor.returncode == 0, survivor.stderr
    assert json.loads(survivor.stdout.strip().splitlines()[-1])["partitions_worked"] == 3
    assert held[0] not in _holders(pg_url)  # the killed one's partition was taken over
    db = snapshot(pg_url)
    assert db == uninterrupted["db"]
    per_invoice_and_date = Counter((number, day) for number, day, _, _ in db["notices"].elements())
    assert max(per_invoice_and_date.values()) == 1


def test_work_partitions_reports_partitions_that_another_live_holder_still_works(ctx: Context) -> None:
    clear_cycle_tables(ctx.store)
    today = date(2026, 3, 2)
    open_partitions(ctx, today, 1)
    assert claim(ctx, today, "elsewhere:1:x", 60) is not None  # a live holder on another host

    report = work_partitions(ctx, shipped_strategies(), today, "here:2:y")

    assert (report.partitions_worked, report.pending_partitions) == (0, 1)
    assert _count(ctx.store, "SELECT COUNT(*) FROM cycle_run WHERE status = 'done'") == (0,)


def test_workers_opening_one_date_at_the_same_moment_create_one_run_and_one_set_of_partitions(
    ctx: Context, service: Collections, database_url: str
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    for c in range(6):  # invoices of several customers: the date splits into several partitions
        book.customer(f"C{c}", "smb", "low")
        book.invoice(f"C{c}", 10)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        store = Store(database_url)  # a worker of its own: its own connection
        other = Context(store=store, clock=ctx.clock, settings=ctx.settings)
        try:
            barrier.wait()
            open_partitions(other, DAY, 3)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            store.disconnect()

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert _count(ctx.store, "SELECT COUNT(*) FROM cycle_run") == (1,)
    assert _count(ctx.store, "SELECT COUNT(*), COUNT(DISTINCT part) FROM cycle_partition") == (3, 3)


def test_workers_claiming_at_the_same_moment_each_get_a_different_partition(
    ctx: Context, service: Collections, database_url: str
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    for c in range(8):
        book.customer(f"C{c}", "smb", "low")
        book.invoice(f"C{c}", 10)
    open_partitions(ctx, DAY, 4)
    barrier = threading.Barrier(4)
    claimed: list[int | None] = []

    def claim_one(k: int) -> None:
        store = Store(database_url)
        other = Context(store=store, clock=ctx.clock, settings=ctx.settings)
        try:
            barrier.wait()
            got = claim(other, DAY, f"elsewhere:1:{k}", 60)
            claimed.append(None if got is None else got.part)
        finally:
            store.disconnect()

    threads = [threading.Thread(target=claim_one, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(p for p in claimed if p is not None) == [0, 1, 2, 3]  # none came back empty-handed
