"""`o2c demo [--if-empty] [--customers N] [--invoices N] [--seed S]` — load the demo portfolio."""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from engine import kpi_history
from engine.bootstrap import build_context, wire
from engine.demo import has_customers, load_demo
from engine.predict import service as predictions
from engine.store.unit_of_work import read_only
from engine.strategies_in_force import load_registry

DEMO_KPI_WEEKS = 8  # weekly KPI snapshots rebuilt from the books before today


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="load a synthetic, seeded portfolio (customers, invoices, payments, disputes, promises, holds)",
    )
    p.add_argument("--if-empty", action="store_true", help="do nothing when customers already exist")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--invoices", type=int, default=20000)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    ctx = build_context()
    with read_only(ctx.store) as uow:
        populated = has_customers(uow)
    if populated and args.if_empty:
        print("demo: customers already exist; nothing loaded")
        return 0
    if populated:
        print("o2c: the database already has customers; the demo loads into an empty database only")
        return 1
    if args.customers < 1 or args.invoices < 0:
        print("o2c: --customers must be at least 1 and --invoices not negative")
        return 1
    started = time.perf_counter()
    summary = load_demo(wire(ctx), args.customers, args.invoices, args.seed)
    took = time.perf_counter() - started
    print(f"{summary.line()} (seed {args.seed}, business date {ctx.today()}, {took:.1f} s)")
    # so that predictions, the forecast and KPI trends show something right away
    run = predictions.train(ctx.store, ctx.today(), ctx.now(), ctx.settings)
    print(f"demo: payment predictions: {run.line()}")
    route = kpi_history.router(load_registry(ctx.settings.strategies_dir).current)
    weeks = [ctx.today() - timedelta(days=7 * k) for k in range(DEMO_KPI_WEEKS, -1, -1)]
    rows = sum(kpi_history.take(ctx.store, ctx.clock.zone, day, route) for day in weeks)
    print(f"demo: KPI history back-filled for {len(weeks)} weekly dates from {weeks[0]} ({rows} rows)")
    return 0
