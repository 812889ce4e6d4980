"""`o2c kpis snapshot [--as-of DATE] [--days N]` — take the daily KPI snapshot (engine/kpi_history)."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date, timedelta

from engine import kpi_history
from engine.bootstrap import build_context
from engine.strategies_in_force import load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kpis", help="KPI history: daily snapshots of aging and collection KPIs")
    inner = p.add_subparsers(dest="kpis_command", required=True)
    s = inner.add_parser("snapshot", help="take (or retake) the snapshot of a business date")
    s.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    s.add_argument("--days", type=int, default=1, help="also the N-1 days before it (back-fill from the books)")
    s.set_defaults(run=_snapshot)


def _snapshot(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 3660:
        print("o2c: --days must be between 1 and 3660")
        return 1
    ctx = build_context()
    route = kpi_history.router(load_registry(ctx.settings.strategies_dir).current)
    last = args.as_of or ctx.today()
    per: Counter[str] = Counter()
    for k in range(args.days - 1, -1, -1):
        found = kpi_history.compute(ctx.store, ctx.clock.zone, last - timedelta(days=k), route)
        kpi_history.write(ctx.store, found)
        per.update(s.dimension for s in found)
    split = ", ".join(f"{d} {per[d]}" for d in kpi_history.DIMENSIONS)
    print(f"kpi snapshot: {sum(per.values())} rows ({split}) for {args.days} business date(s) up to {last}")
    return 0
