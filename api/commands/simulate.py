"""`o2c simulate --days N [--strategies DIR] [--seed S] [--json] [--plot FILE] [--snapshot URL]` —
backtest the strategies in force (and a candidate set beside them) on a copy of today's portfolio
(or of a snapshot)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from tqdm import tqdm

from engine.bootstrap import build_context
from engine.lab.diff import candidate_set
from engine.lab.simulate import backtest
from engine.lab.text import backtest_lines
from engine.rules.directory import load_directory
from engine.rules.errors import StrategyError
from engine.store.database import Store
from engine.strategies_in_force import load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="backtest strategies day by day on a copy of the portfolio")
    p.add_argument("--days", type=int, required=True, help="simulated days (1..366)")
    p.add_argument("--strategies", type=Path, default=None, help="a candidate set, run beside the set in force")
    p.add_argument("--seed", type=int, default=1, help="same seed, same result")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="the start (default: today)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", type=Path, default=None, help="write a PNG chart of DSO and cash per day")
    p.add_argument(
        "--snapshot", default=None, help="start from this database (URL, e.g. a SQLite backup) instead of the live one"
    )
    p.set_defaults(run=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 366:
        print("o2c: --days must be between 1 and 366", file=sys.stderr)
        return 2
    sets = []
    if args.strategies is not None:
        try:
            sets.append(("candidate", candidate_set(load_directory(args.strategies), str(args.strategies))))
        except StrategyError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 1
    ctx = build_context()
    sets.insert(0, ("in force", load_registry(ctx.settings.strategies_dir).current))
    bar = None if args.json or not sys.stderr.isatty() else tqdm(total=args.days * len(sets), unit="day")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.n = done
            bar.refresh()

    source = Store(args.snapshot) if args.snapshot else ctx.store
    result = backtest(source, sets, args.as_of or ctx.today(), args.days, args.seed, progress)
    if bar is not None:
        bar.close()
    if args.plot is not None:
        from engine.lab.plot import plot_backtest

        plot_backtest(result, args.plot)
    print(json.dumps(result.as_dict(), sort_keys=True) if args.json else "\n".join(backtest_lines(result)))
    return 0
