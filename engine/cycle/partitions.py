"""The partitioned cycle: one business date's customers split into K slices (customer id ranges,
balanced by collectible invoices) that any number of workers claim and work.

- `open_partitions(ctx, as_of, count)` writes the slices once per date (the first caller wins;
  later callers see them), in the transaction that opens the date's `cycle_run`.
- `work_partitions(ctx, strategies, as_of, holder)` claims slices until none is left: an open one,
  or a running one whose lease lapsed (or whose holder is a dead process on this host). It claims
  with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite: one writer at a time), renews the lease
  from a heartbeat thread while it works, runs the ordinary cycle (`runner.run_scope`) on the
  slice's invoices and accounts, and marks it done; the last slice done turns `cycle_run` done.

Exactly once per invoice does not rest on the partition lease: it rests, as in one process, on
`invoice.last_cycle_on` and the version re-read inside every chunk's transaction. Two workers
that both believe they hold a slice (a paused holder whose lease lapsed) write each invoice once;
the later one finds it handled or conflicting. Lease times come from the database's clock, the
one clock every process shares."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from engine import crash
from engine.clock import stored
from engine.cycle import tally
from engine.cycle.book import STATES, Customers
from engine.cycle.portfolio import fetch_all
from engine.cycle.scope import CycleReport, Progress, run_scope
from engine.lease import holder_is_dead, new_holder
from engine.rules.registry import StrategySet
from engine.services.context import Context
from engine.store.dialect import day_param, sql_for
from engine.store.tuning import bulk_writes
from engine.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0


@dataclass(frozen=True)
class Partition:
    id: int
    business_date: date
    part: int
    first_customer: int | None
    last_customer: int | None

    @property
    def customers(self) -> Customers:
        return Customers(first=self.first_customer, last=self.last_customer)


def _lease_sql(ctx: Context, seconds: float) -> str:
    """The database's 'now + seconds', in the naive-UTC form the store keeps."""
    if ctx.store.is_postgres:
        return f"(NOW() AT TIME ZONE 'UTC') + INTERVAL '{float(seconds)} seconds'"
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '+{float(seconds)} seconds')"


def _now_sql(ctx: Context) -> str:
    return "(NOW() AT TIME ZONE 'UTC')" if ctx.store.is_postgres else "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def boundaries(counts: list[tuple[int, int]], count: int) -> list[tuple[int | None, int | None]]:
    """Contiguous customer id ranges covering every id, each with about the same number of
    collectible invoices (`counts`: (customer id, invoices), sorted by id). The first range is
    open below, the last open above, so customers without invoices (held accounts) belong too."""
    if count <= 1 or len(counts) < 2:
        return [(None, None)]
    ids = np.asarray([c for c, _ in counts], dtype=np.int64)
    cumulative = np.cumsum(np.asarray([n for _, n in counts], dtype=np.int64))
    targets = cumulative[-1] * np.arange(1, count) / count
    cuts = sorted({int(ids[min(int(np.searchsorted(cumulative, t)) + 1, ids.size - 1)]) for t in targets})
    starts: list[int | None] = [None, *cuts]
    ends: list[int | None] = [c - 1 for c in cuts] + [None]
    return list(zip(starts, ends, strict=True))


def open_partitions(ctx: Context, as_of: date, count: int) -> bool:
    """Open the cycle of `as_of` in `count` partitions (unless it has partitions already).
    False when that date is done. Several workers may open one date at the same moment: the run
    row (unique per date) is inserted if absent, then locked, so one of them writes the partitions.
    `runner.run_cycle` finishes the earlier dates first (`runner.finish_earlier_dates`)."""
    with UnitOfWork(ctx.store, write=True) as uow:
        cur = uow.connection().cursor()
        started = stored(ctx.now())
        cur.execute(
            sql_for(
                ctx.store,
                "INSERT INTO cycle_run (business_date, status, started_at, stats) VALUES (?, 'running', ?, '{}') "
                "ON CONFLICT (business_date) DO NOTHING",
            ),
            (day_param(ctx.store, as_of), started if ctx.store.is_postgres else str(started)),
        )
        if cur.rowcount == 1:
            # partitions are written with their run: any without one are leftovers of a removed run
            cur.execute(
                sql_for(ctx.store, "DELETE FROM cycle_partition WHERE business_date = ?"),
                (day_param(ctx.store, as_of),),
            )
        run = uow.CycleRun.get_for_update(business_date=as_of)
        if run.status == "done":
            return False
        cur.execute(
            sql_for(ctx.store, "SELECT COUNT(*) FROM cycle_partition WHERE business_date = ?"),
            (day_param(ctx.store, as_of),),
        )
        if int(cur.fetchone()[0]) == 0:
            collectible = ", ".join(f"'{s}'" for s in STATES)
            counts = (
                fetch_all(
                    uow,
                    f"SELECT customer, COUNT(*) FROM invoice WHERE state IN ({collectible}) "
                    "GROUP BY customer ORDER BY customer",
                )
                if count > 1
                else []  # one partition covers everyone: no need to count
            )
            rows = [
                (day_param(ctx.store, as_of), k, first, last, "open", "{}")
                for k, (first, last) in enumerate(boundaries([(int(c), int(n)) for c, n in counts], count))
            ]
            cur.executemany(
                sql_for(
                    ctx.store,
                    "INSERT INTO cycle_partition (business_date, part, first_customer, last_customer, status, stats) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                ),
                rows,
            )
        uow.commit()
    crash.reached("cycle.opened")
    return True


def claim(
    ctx: Context, as_of: date, holder: str, lease_seconds: float = LEASE_SECONDS, reap_dead: bool = True
) -> Partition | None:
    """Take one partition of `as_of` that is open, or running under a lapsed lease or (with
    `reap_dead`) a holder that is a dead process on this host."""
    lock = " FOR UPDATE SKIP LOCKED" if ctx.store.is_postgres else ""
    lapsed_sql = f"CASE WHEN lease_until < {_now_sql(ctx)} THEN 1 ELSE 0 END"
    with UnitOfWork(ctx.store, write=True) as uow:
        cur = uow.connection().cursor()
        cur.execute(
            sql_for(
                ctx.store,
                f"SELECT id, status, holder, {lapsed_sql} FROM cycle_partition "
                "WHERE business_date = ? AND status <> 'done' ORDER BY part",
            ),
            (day_param(ctx.store, as_of),),
        )
        candidates = [(pid, status, current, lapsed) for pid, status, current, lapsed in cur.fetchall()]
        for pid, status, current, lapsed in candidates:
            if not _free(status, current, lapsed, reap_dead):
                continue
            # lock this one row only (SKIP LOCKED: another worker is claiming it) and look again
            cur.execute(
                sql_for(
                    ctx.store,
                    f"SELECT part, first_customer, last_customer, status, holder, {lapsed_sql} "
                    f"FROM cycle_partition WHERE id = ? AND status <> 'done'{lock}",
                ),
                (pid,),
            )
            found = cur.fetchone()
            if found is None or not _free(found[3], found[4], found[5], reap_dead):
                continue
            part, first, last, status, current = found[:5]
            cur.execute(
                sql_for(
                    ctx.store,
                    "UPDATE cycle_partition SET status = 'running', holder = ?, "
                    f"lease_until = {_lease_sql(ctx, lease_seconds)} WHERE id = ?",
                ),
                (holder, pid),
            )
            uow.commit()
            if status == "running":
                log.info("partition %s of %s taken over from %s", part, as_of, current)
            return Partition(int(pid), as_of, int(part), _int(first), _int(last))
    return None


def _free(status: str, holder: str | None, lapsed: Any, reap_dead: bool) -> bool:
    return status == "open" or bool(lapsed) or (reap_dead and holder_is_dead(holder))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def renew(ctx: Context, partition: Partition, holder: str, lease_seconds: float = LEASE_SECONDS) -> bool:
    """Extend the lease; False when this holder no longer holds the partition."""
    with UnitOfWork(ctx.store, write=True) as uow:
        cur = uow.connection().cursor()
        cur.execute(
            sql_for(
                ctx.store,
                f"UPDATE cycle_partition SET lease_until = {_lease_sql(ctx, lease_seconds)} "
                "WHERE id = ? AND holder = ? AND status = 'running'",
            ),
            (partition.id, holder),
        )
        held = cur.rowcount == 1
        uow.commit()
    return held


@contextlib.contextmanager
def heartbeat(ctx: Context, partition: Partition, holder: str, lease_seconds: float) -> Iterator[threading.Event]:
    """Renew the lease every third of its length while the block runs (loading and planning a big
    partition takes longer than a lease). The event is set if the lease was lost."""
    stop, lost = threading.Event(), threading.Event()

    def beat() -> None:
        while not stop.wait(lease_seconds / 3):
            try:
                if not renew(ctx, partition, holder, lease_seconds):
                    lost.set()
                    return
            except Exception:  # a failed renewal is retried; the lease lapses only if they all fail
                log.warning("renewing the lease of partition %s failed", partition.part, exc_info=True)

    thread = threading.Thread(target=beat, name=f"partition-{partition.part}-lease", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join()


def finish(ctx: Context, partition: Partition, holder: str, stats: dict[str, Any]) -> int | None:
    """Mark the partition done, if `holder` still holds it: its row keeps the counts its writes
    added (`engine/cycle/tally.py`), plus `stats` (what no write counts: invoices evaluated, wall
    time). When it was the last, the date's run turns done with the sum of the partitions' counts.
    Returns how many partitions of the date are not done, or None when the lease was lost (a
    takeover: the new holder finishes it; nothing is changed)."""
    day = day_param(ctx.store, partition.business_date)
    with UnitOfWork(ctx.store, write=True) as uow:
        # the run's row first: it serializes the finishers of one date
        run = uow.CycleRun.get_for_update(business_date=partition.business_date)
        cur = uow.connection().cursor()
        cur.execute(
            sql_for(
                ctx.store,
                "SELECT stats FROM cycle_partition WHERE id = ? AND holder = ? AND status = 'running'",
            ),
            (partition.id, holder),
        )
        mine = cur.fetchone()
        if mine is None:
            return None  # leaving the unit of work uncommitted rolls back: nothing was written
        counts = {k: int(v) for k, v in stats.items() if k in tally.STATS}
        final = tally.merged(tally.parse(mine[0]), counts, stats.get("by_rule", {}))
        final |= {k: v for k, v in stats.items() if k not in tally.STATS and k != "by_rule"}
        cur.execute(
            sql_for(ctx.store, "UPDATE cycle_partition SET status = 'done', stats = ? WHERE id = ? AND holder = ?"),
            (json.dumps(final), partition.id, holder),
        )
        cur.execute(sql_for(ctx.store, "SELECT status, stats FROM cycle_partition WHERE business_date = ?"), (day,))
        parts = cur.fetchall()
        pending = sum(1 for status, _ in parts if status != "done")
        if pending == 0 and run is not None and run.status != "done":
            totals: Counter[str] = Counter()
            by_rule: Counter[str] = Counter()
            for _, raw in parts:
                found = tally.parse(raw)
                totals.update({k: int(found.get(k, 0)) for k in tally.STATS})
                by_rule.update(found.get("by_rule", {}))
            run.stats = dict(totals) | {"by_rule": dict(sorted(by_rule.items())), "partitions": len(parts)}
            run.status, run.finished_at = "done", stored(ctx.now())
        uow.commit()
    return pending


def work_partitions(
    ctx: Context,
    strategies: StrategySet,
    as_of: date,
    holder: str | None = None,
    *,
    lease_seconds: float = LEASE_SECONDS,
    chunk_size: int = 5000,
    progress: Progress | None = None,
    after_chunk: Callable[[int], None] | None = None,
    report: CycleReport | None = None,
    reap_dead: bool = True,
) -> CycleReport:
    """Claim and work partitions of `as_of` until none is left to claim; the report covers the
    partitions this caller worked; `pending_partitions` counts those others still work. SQLite's
    bulk-write settings are taken only once a partition is claimed (a standby's tick that finds
    nothing to claim changes nothing)."""
    holder = holder or new_holder()
    report = report or CycleReport(as_of.isoformat(), False)
    total_by_rule: Counter[str] = Counter(report.by_rule)
    started = time.perf_counter()
    partition = claim(ctx, as_of, holder, lease_seconds, reap_dead)
    if partition is not None:
        with bulk_writes(ctx.store):
            while partition is not None:
                total_by_rule.update(
                    _work_one(
                        ctx, strategies, partition, holder, lease_seconds, chunk_size, progress, after_chunk, report
                    )
                )
                partition = claim(ctx, as_of, holder, lease_seconds, reap_dead)
    report.pending_partitions = pending_partitions(ctx, as_of)
    report.by_rule = dict(sorted(total_by_rule.items()))
    report.wall_s = round(report.wall_s + time.perf_counter() - started, 3)
    return report


def _work_one(
    ctx: Context,
    strategies: StrategySet,
    partition: Partition,
    holder: str,
    lease_seconds: float,
    chunk_size: int,
    progress: Progress | None,
    after_chunk: Callable[[int], None] | None,
    report: CycleReport,
) -> Counter[str]:
    """Work one claimed partition (its counts go to `report`; returns its rule counts). Between
    chunks the lease is renewed (and checked): once another worker has taken it over, nothing
    more is written and the partition is left to it."""
    crash.reached("cycle.claimed")
    started = time.perf_counter()
    part_report = CycleReport(partition.business_date.isoformat(), False)
    by_rule: Counter[str] = Counter()
    with heartbeat(ctx, partition, holder, lease_seconds) as lost:

        def stopped() -> bool:
            if not lost.is_set() and not renew(ctx, partition, holder, lease_seconds):
                lost.set()
            return lost.is_set()

        run_scope(
            ctx,
            strategies,
            partition.business_date,
            partition.customers,
            part_report,
            by_rule,
            chunk_size=chunk_size,
            progress=progress,
            after_chunk=after_chunk,
            stopped=stopped,
            partition_id=partition.id,
        )
    # the counts of the writes are on the partition's row already (tally); these are not
    stats = {"invoices_evaluated": part_report.invoices_evaluated, "wall_s": round(time.perf_counter() - started, 3)}
    if lost.is_set() or finish(ctx, partition, holder, stats) is None:
        log.warning(
            "lost the lease of partition %s of %s to another worker; it finishes the partition",
            partition.part,
            partition.business_date,
        )
    else:
        report.partitions_worked += 1
        crash.reached("cycle.partition_done")
    for k in (*tally.STATS, "refused"):
        setattr(report, k, getattr(report, k) + getattr(part_report, k))
    return by_rule


def pending_partitions(ctx: Context, as_of: date) -> int:
    with UnitOfWork(ctx.store) as uow:
        cur = uow.connection().cursor()
        cur.execute(
            sql_for(ctx.store, "SELECT COUNT(*) FROM cycle_partition WHERE business_date = ? AND status <> 'done'"),
            (day_param(ctx.store, as_of),),
        )
        return int(cur.fetchone()[0])


def oldest_open_date(ctx: Context) -> date | None:
    """The oldest date whose cycle runs with partitions left to work (a standby helps with it)."""
    with UnitOfWork(ctx.store) as uow:
        found = uow.select(
            "SELECT MIN(p.business_date) FROM cycle_partition p JOIN cycle_run r ON r.business_date = p.business_date "
            "WHERE r.status = 'running' AND p.status <> 'done'"
        )
    value = found[0] if found else None
    return date.fromisoformat(str(value)[:10]) if value else None
