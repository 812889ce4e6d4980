"""`o2c cycle [--as-of DATE] [--dry-run] [--json]` — run the daily cycle (catching up missed dates), then
render the messages it requested (outside its transactions)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from tqdm import tqdm

from engine import crash
from engine.bootstrap import build_context, wire
from engine.commands import RunTimers
from engine.cycle.runner import CycleReport, pending_dates, run_cycle
from engine.notices.render import render_due
from engine.strategies_in_force import load_registry
from engine.timers import TIMER


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cycle", help="run the daily dunning cycle for a business date")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    p.add_argument("--dry-run", action="store_true", help="compute and print, write nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-catch-up", action="store_true", help="run only --as-of, not missed earlier dates")
    p.add_argument(
        "--backfill",
        action="store_true",
        help="allow --as-of earlier than a date already done (it judges today's portfolio as of that date)",
    )
    p.add_argument("--chunk-size", type=int, default=5000, help="invoices per transaction")
    p.add_argument(
        "--no-render",
        action="store_true",
        help="leave the requested messages for `o2c notices render` (also the earlier dates')",
    )
    p.set_defaults(run=_cycle)


def _cycle(args: argparse.Namespace) -> int:
    ctx = build_context()
    registry = load_registry(ctx.settings.strategies_dir)
    strategies = registry.current
    service = wire(ctx, registry)  # as under serve and worker: timers through the one door
    as_of = args.as_of or ctx.today()
    days = [as_of] if (args.dry_run or args.no_catch_up or args.backfill) else pending_dates(ctx, as_of) or [as_of]
    reports: list[CycleReport] = []
    for day in days:
        bar = None if args.json or not sys.stderr.isatty() else tqdm(total=0, unit="inv", desc=str(day))

        def progress(done: int, total: int, bar: tqdm | None = bar) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        reports.append(
            run_cycle(
                ctx,
                strategies,
                day,
                dry_run=args.dry_run,
                progress=progress,
                chunk_size=args.chunk_size,
                backfill=args.backfill,
                render=not args.no_render,
            )
        )
        if bar is not None:
            bar.close()
        if reports[-1].pending_partitions:
            # Other workers still hold partitions of this date: a later date must not overtake it
            # (that could skip a dunning level). The date turns done when they finish; run again then.
            break
        if not args.dry_run:
            service.handle(RunTimers(day), TIMER)
    rendered = None if args.dry_run or args.no_render else render_due(ctx, strategies)
    if rendered is not None:
        crash.reached("notices.rendered")
    if args.json:
        out: dict[str, Any] = reports[-1].as_dict() if len(reports) == 1 else {"runs": [r.as_dict() for r in reports]}
        if len(reports) > 1:
            out |= {k: sum(int(r.as_dict()[k]) for r in reports) for k in ("applied", "notices", "tasks")}
        if rendered is not None:
            out["rendered"] = {"rendered": rendered.rendered, "cancelled": rendered.cancelled, "tasks": rendered.tasks}
        print(json.dumps(out, sort_keys=True))
    else:
        for r in reports:
            state = "already done" if r.already_done else ("dry run" if r.dry_run else "done")
            if r.pending_partitions:
                state = f"partly done ({r.pending_partitions} partitions still held by other workers)"
            print(
                f"{r.business_date}: {state}: {r.invoices_evaluated} invoices evaluated, {r.applied} transitions, "
                f"{r.notices} notices, {r.tasks} tasks, {r.holds_placed} holds placed ({r.wall_s} s)"
            )
            for rule, n in r.by_rule.items():
                print(f"  {rule}: {n}")
        if rendered is not None:
            print(f"messages: {rendered.rendered} rendered, {rendered.cancelled} cancelled, {rendered.tasks} tasks")
    return 0
