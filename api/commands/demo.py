"""`o2c demo [--if-empty] [--customers N] [--invoices N] [--seed S]` — load the demo portfolio."""

from __future__ import annotations

import argparse
import time

from engine.bootstrap import build_context
from engine.demo import has_customers, load_demo
from engine.service import Collections
from engine.store.unit_of_work import read_only


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
    summary = load_demo(Collections(ctx), args.customers, args.invoices, args.seed)
    took = time.perf_counter() - started
    print(f"{summary.line()} (seed {args.seed}, business date {ctx.today()}, {took:.1f} s)")
    return 0
