"""Run the daily cycle for one business date, exactly once, and catch up missed dates in order.

Exactly once: every invoice the cycle acts on gets `last_cycle_on = date` in the same transaction
as its transitions, history, outbox and notice rows; a notice is unique per (invoice, date). A
re-run (after a crash, or simply again) loads only invoices not yet handled on that date, so it
completes the remaining work and repeats none. The `cycle_run` row turns `done` at the end."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from engine import crash
from engine.cycle.book import EVERYONE
from engine.cycle.partitions import open_partitions, work_partitions
from engine.cycle.scope import CYCLE_ACTOR, CycleReport, Progress, run_scope
from engine.lease import new_holder
from engine.notices.render import render_due
from engine.rules.registry import StrategySet
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork
from engine.timers import run_timers
from states.errors import ValidationFailed

__all__ = ["CYCLE_ACTOR", "CycleReport", "pending_dates", "run_cycle", "run_due"]
MAX_CATCH_UP_DAYS = 62


def run_cycle(
    ctx: Context,
    strategies: StrategySet,
    as_of: date,
    *,
    dry_run: bool = False,
    chunk_size: int = 5000,
    progress: Progress | None = None,
    after_chunk: Callable[[int], None] | None = None,
    partitions: int = 1,
    holder: str | None = None,
    backfill: bool = False,
    render: bool = True,
) -> CycleReport:
    """The cycle of `as_of` in this process: open its partitions (`partitions` of them, unless
    they exist) and work every one that is free (see `engine/cycle/partitions.py`). Partitions
    another live worker holds stay theirs: `pending_partitions` counts them, and the date turns
    done when the last one is done, whoever works it. A date earlier than one already done is
    refused unless `backfill` (see `check_not_behind`). Before the date opens, the earlier dates'
    work is finished (`finish_earlier_dates`; without `render`, their messages are left requested)."""
    if not dry_run and not backfill:
        check_not_behind(ctx, as_of)
    started = time.perf_counter()
    report = CycleReport(as_of.isoformat(), dry_run)
    if dry_run:
        by_rule: Counter[str] = Counter()
        run_scope(ctx, strategies, as_of, EVERYONE, report, by_rule, True, chunk_size, progress, after_chunk)
        report.by_rule = dict(sorted(by_rule.items()))
    elif not _open(ctx, strategies, as_of, partitions, render):
        report.already_done = True
    else:
        work_partitions(
            ctx,
            strategies,
            as_of,
            holder or new_holder(),
            chunk_size=chunk_size,
            progress=progress,
            after_chunk=after_chunk,
            report=report,
        )
    report.wall_s = round(time.perf_counter() - started, 3)
    return report


def _open(ctx: Context, strategies: StrategySet, as_of: date, partitions: int, render: bool) -> bool:
    finish_earlier_dates(ctx, strategies, as_of, render=render)
    return open_partitions(ctx, as_of, partitions)


def finish_earlier_dates(ctx: Context, strategies: StrategySet, as_of: date, *, render: bool = True) -> None:
    """What belongs to the dates before `as_of` is done before its cycle opens (nothing, once it has
    opened), so that a process killed after a date's cycle ends, once rerun — the same date or the
    next —, like an uninterrupted run (ADR 0022):

    - the timers of the day before (promises judged, dispute deadlines …) run again when that day
      is done — they are idempotent per item —, so nothing is judged a day late and this cycle sees
      what they decided;
    - with `render`, the messages of earlier business dates still `requested` are rendered (a
      kill before the render step, or a worker that had not reached them), against the state
      their own date left, not the state after this cycle; this cycle's contact cap then sees the
      cancelled ones as cancelled. Today's messages (a person's `DUN`, a re-evaluation) stay
      requested: this cycle's lines join them. Without a templates directory they wait as before."""
    previous = as_of - timedelta(days=1)
    with UnitOfWork(ctx.store) as uow:
        opened = uow.select("SELECT status FROM cycle_run WHERE business_date = $d", {"d": as_of.isoformat()})
        before = uow.select("SELECT status FROM cycle_run WHERE business_date = $d", {"d": previous.isoformat()})
    if opened:
        return
    if before == ["done"]:
        run_timers(ctx, previous)
    if render and render_due(ctx, strategies, before=as_of) is not None:
        crash.reached("notices.earlier_rendered")


def check_not_behind(ctx: Context, as_of: date) -> None:
    """Days run forward: a cycle for a date before the latest one done (and never started itself)
    would judge today's portfolio as of a past date — dunning levels, holds and promises decided
    later would be decided again, out of order. Refused; `o2c cycle --backfill` allows it."""
    with UnitOfWork(ctx.store) as uow:
        latest = uow.select("SELECT MAX(business_date) FROM cycle_run WHERE status = 'done'")[0]
        known = uow.select("SELECT COUNT(*) FROM cycle_run WHERE business_date = $d", {"d": as_of.isoformat()})[0]
    last = date.fromisoformat(str(latest)[:10]) if latest else None
    if last is not None and as_of < last and not known:
        raise ValidationFailed(
            f"the cycle of {last} is already done; a cycle for the earlier date {as_of} is refused"
            " (run `o2c cycle --as-of DATE --backfill` to run it anyway)",
            "asOf",
        )


def pending_dates(ctx: Context, through: date) -> list[date]:
    """Business dates still to run, oldest first: after the last finished run, up to `through`."""
    with UnitOfWork(ctx.store) as uow:
        done = uow.select("SELECT MAX(business_date) FROM cycle_run WHERE status = 'done'")[0]
        running = [r for r in uow.select("SELECT business_date FROM cycle_run WHERE status = 'running'")]
    last = date.fromisoformat(str(done)[:10]) if done else None
    first = last + timedelta(days=1) if last else through
    first = max(first, through - timedelta(days=MAX_CATCH_UP_DAYS))
    days = [first + timedelta(days=k) for k in range((through - first).days + 1)]
    resumed = sorted(date.fromisoformat(str(r)[:10]) for r in running)
    return sorted(set(days) | {d for d in resumed if d <= through})


def run_due(ctx: Context, strategies: StrategySet, through: date, **kw: Any) -> list[CycleReport]:
    """Catch up: every pending date in order (after downtime), each exactly once. A date whose
    partitions other workers still work stops the catch-up there (no later date may overtake it:
    that could skip a dunning level); the next call continues."""
    reports = []
    for day in pending_dates(ctx, through):
        report = run_cycle(ctx, strategies, day, **kw)
        reports.append(report)
        if report.pending_partitions:
            break
    return reports
