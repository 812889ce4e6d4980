"""`o2c strategies check|test [DIR]` — validate the strategy files (and that every template they name
exists), run their embedded tests; `o2c strategies diff CANDIDATE_DIR` — what a candidate set would do
differently today; `o2c strategies experiment NAME` — a champion/challenger report."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from engine.bootstrap import build_context
from engine.config import load_settings
from engine.lab.diff import candidate_set, diff_strategies
from engine.lab.experiment import experiment_report
from engine.lab.text import diff_lines, experiment_lines
from engine.notices.templates import load
from engine.rules import checks
from engine.rules.directory import load_directory
from engine.rules.errors import StrategyError
from engine.strategies_in_force import load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("strategies", help="check, test and diff strategy files")
    inner = p.add_subparsers(dest="strategies_command", required=True)
    for name, helptext in (
        ("check", "validate every file (exit 1 with every error)"),
        ("test", "run the embedded tests with per-rule coverage"),
    ):
        c = inner.add_parser(name, help=helptext)
        c.add_argument("directory", nargs="?", type=Path, default=None)
        if name == "check":
            c.add_argument(
                "--templates",
                type=Path,
                default=None,
                help="templates directory every named template must exist in (default O2C_TEMPLATES_DIR)",
            )
        c.set_defaults(run=_check if name == "check" else _test)
    d = inner.add_parser(
        "diff", help="what a candidate set would do differently from the set in force (writes nothing)"
    )
    d.add_argument("candidate", type=Path, help="directory of the candidate strategy files")
    d.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    d.add_argument("--json", action="store_true", help="print one JSON object listing every change")
    d.add_argument("--limit", type=int, default=50, help="changed invoices and customers listed as text")
    d.set_defaults(run=_diff)
    e = inner.add_parser("experiment", help="how each arm of a champion/challenger experiment did")
    e.add_argument("name", help="the experiment's name (the `experiment: name:` of a strategy in force)")
    e.add_argument("--since", type=date.fromisoformat, default=None, help="first date (default: 90 days back)")
    e.add_argument("--until", type=date.fromisoformat, default=None, help="last date (default: today)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--plot", type=Path, default=None, help="write a PNG chart of cash per day per arm")
    e.set_defaults(run=_experiment)


def _dir(args: argparse.Namespace) -> Path:
    return args.directory or load_settings().strategies_dir


def _check(args: argparse.Namespace) -> int:
    templates = load(args.templates or load_settings().templates_dir)
    return checks.check(_dir(args), sys.stdout, templates.has)


def _test(args: argparse.Namespace) -> int:
    return checks.test(_dir(args), sys.stdout)


def _diff(args: argparse.Namespace) -> int:
    try:
        candidate = candidate_set(load_directory(args.candidate), str(args.candidate))
    except StrategyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in the candidate; nothing was compared", file=sys.stderr)
        return 1
    ctx = build_context()
    in_force = load_registry(ctx.settings.strategies_dir).current
    found = diff_strategies(ctx.store, in_force, candidate, args.as_of or ctx.today())
    if args.json:
        print(json.dumps(found.as_dict(), sort_keys=True))
    else:
        print("\n".join(diff_lines(found, args.limit)))
    return 0


def _experiment(args: argparse.Namespace) -> int:
    ctx = build_context()
    in_force = load_registry(ctx.settings.strategies_dir).current
    until = args.until or ctx.today()
    since = args.since or until - timedelta(days=90)
    report = experiment_report(ctx.store, in_force, args.name, since, until)
    if args.plot is not None:
        from engine.lab.plot import plot_experiment  # matplotlib: an optional dependency

        plot_experiment(report, args.plot)
    print(json.dumps(report.as_dict(), sort_keys=True) if args.json else "\n".join(experiment_lines(report)))
    return 0
