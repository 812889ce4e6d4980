"""What-if diff benchmark: the shipped strategies against a candidate on one portfolio.

    .venv/bin/python benchmarks/diff.py [--invoices 1000000] [--customers 100000] [--portfolio FILE]

The portfolio is the daily-cycle benchmark's (`benchmarks/cycle.py`, raw bulk inserts, not timed;
`--portfolio` keeps it in a file and reuses a copy). The candidate is the shipped set with a
stricter smb-standard (one day of grace, the first notice by SMS, the hold at 20 days, three notices
a week) and mid-market (grace 2 days). Timed: `diff_strategies` end to end (one load, two plans,
the comparison), and, as the baseline in the same run, `o2c cycle --dry-run` of the set in force
(one load, one plan). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cycle import _copy_sqlite, build_rows, insert_portfolio  # noqa: E402

from engine.clock import clock_for_date  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.cycle.runner import run_cycle  # noqa: E402
from engine.lab.diff import candidate_set, diff_strategies  # noqa: E402
from engine.rules.directory import load_directory  # noqa: E402
from engine.services.context import Context  # noqa: E402
from engine.store.database import Store  # noqa: E402
from engine.store.upgrades import upgrade  # noqa: E402
from engine.strategies_in_force import load_registry  # noqa: E402

EDITS = {
    "smb-standard.yaml": (
        ("grace_days: 3", "grace_days: 1"),
        ("{channel: email, template: smb_dunning_1}", "{channel: sms, template: smb_dunning_1}"),
        ("account.max_days_past_due >= 30", "account.max_days_past_due >= 20"),
        ("contact_cap: {max: 2, per_days: 7}", "contact_cap: {max: 3, per_days: 7}"),
    ),
    "mid-market.yaml": (("grace_days: 5", "grace_days: 2"),),
}


def candidate(folder: Path) -> Path:
    target = folder / "candidate"
    shutil.copytree(ROOT / "strategies", target)
    for name, edits in EDITS.items():
        text = (target / name).read_text()
        for old, new in edits:
            assert old in text, (name, old)
            text = text.replace(old, new)
        (target / name).write_text(text)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 3, 2))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--portfolio", type=Path, default=None, help="keep the built portfolio here and reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "diff-bench.sqlite"
        url = f"sqlite:///{path}"
        if args.portfolio is not None and args.portfolio.exists():
            _copy_sqlite(args.portfolio, path)
            store = Store(url)
            upgrade(store)
        else:
            store = Store(url)
            upgrade(store)
            insert_portfolio(url, build_rows(args.invoices, args.customers, args.as_of, args.seed), args.as_of)
            if args.portfolio is not None:
                _copy_sqlite(path, args.portfolio)
        ctx = Context(store=store, clock=clock_for_date(args.as_of), settings=Settings(database_url=url))
        in_force = load_registry(ROOT / "strategies").current
        where = candidate(Path(tmp))
        other = candidate_set(load_directory(where), str(where))

        started = time.perf_counter()
        dry = run_cycle(ctx, in_force, args.as_of, dry_run=True)
        baseline = time.perf_counter() - started

        started, cpu = time.perf_counter(), time.process_time()
        found = diff_strategies(store, in_force, other, args.as_of)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.disconnect()
    result = {
        "invoices": args.invoices,
        "customers": args.customers,
        "invoices_evaluated": found.invoices_evaluated,
        "invoices_changed": len(found.invoices),
        "customers_changed": len(found.customers),
        "diff_wall_s": round(wall, 2),
        "diff_cpu_s": round(cpu, 2),
        "dry_run_baseline_s": round(baseline, 2),
        "dry_run_notices": dry.notices,
        "diff_notices_before": found.totals["notices"]["before"],
        "target_s": 15,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
