"""Daily-cycle benchmark: build a portfolio with raw bulk inserts, run ONE full cycle end to end.

    .venv/bin/python benchmarks/cycle.py [--invoices 100000] [--customers 10000] [--database URL]

The portfolio (customers in every segment × risk class, invoices due over the last 120 days and
the next 30, in every collectible state with dunning levels and earlier notices, some promised or
disputed) is written with `executemany` (SQLite) or `execute_values` (PostgreSQL); that part is
not timed. The timed part is `run_cycle`: load the facts set-based, evaluate with the numpy
evaluator, apply the transitions with history, outbox, notices and tasks, then the account rules.
Customers are spread over eight places (time zone, country, subdivision), one without a country.

`durable_rules_only_s` is the time durable-rules alone needs to evaluate the same fact rows (the
rows the cycle evaluated, built before the cycle by the planner's own fact code, converted to one
dict per row outside the timing): only `DurableEvaluator.evaluate` calls are timed. Above
`--durable-sample` rows an evenly spread sample is timed and the figure extrapolated linearly
(`durable_rules_sampled_rows` says how many were timed). `durable_agrees` compares its winning
rules with the numpy evaluator's on every sampled row. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.clock import clock_for_date  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.cycle import portfolio as pf  # noqa: E402
from engine.cycle.book import load_book  # noqa: E402
from engine.cycle.facts import invoice_facts  # noqa: E402
from engine.cycle.planner import _recent_for  # noqa: E402
from engine.cycle.runner import run_cycle  # noqa: E402
from engine.rules.durable_eval import engine as durable_engine  # noqa: E402
from engine.rules.numpy_eval import NO_RULE  # noqa: E402
from engine.rules.numpy_eval import evaluate as numpy_evaluate  # noqa: E402
from engine.rules.registry import StrategySet  # noqa: E402
from engine.services.context import Context  # noqa: E402
from engine.store.database import Store  # noqa: E402
from engine.store.upgrades import upgrade  # noqa: E402
from engine.strategies_in_force import load_registry  # noqa: E402
from states import invoice as inv_states  # noqa: E402

SEGMENTS = ("enterprise", "mid_market", "smb", "public_sector")
RISKS = ("low", "medium", "high", "critical")
CURRENCIES = ("EUR", "USD", "GBP")
EPOCH = date(1970, 1, 1)


# ---------------------------------------------------------------- the portfolio (raw bulk inserts)


# Customers' time zones and holiday calendars (the `business_day` fact judges each place once).
PLACES = (
    ("Europe/Berlin", "DE", "BY"),
    ("Europe/Berlin", "DE", "BE"),
    ("Europe/Paris", "FR", None),
    ("America/New_York", "US", "NY"),
    ("America/Los_Angeles", "US", "CA"),
    ("Europe/London", "GB", "ENG"),
    ("Asia/Tokyo", "JP", None),
    ("UTC", None, None),
)


def build_rows(n_inv: int, n_cust: int, as_of: date, seed: int) -> dict[str, list[tuple[Any, ...]]]:
    rng = np.random.default_rng(seed)
    created = datetime(as_of.year, as_of.month, as_of.day) - timedelta(days=200)
    ts = created.isoformat(sep=" ")
    seg = rng.choice(len(SEGMENTS), n_cust, p=[0.15, 0.25, 0.5, 0.1])
    risk = rng.choice(len(RISKS), n_cust, p=[0.35, 0.35, 0.2, 0.1])
    cur = rng.choice(len(CURRENCIES), n_cust, p=[0.7, 0.2, 0.1])
    limit = rng.integers(1, 200, n_cust) * 100_000
    broken = rng.choice(3, n_cust, p=[0.85, 0.1, 0.05])
    customers = [
        (
            c + 1,
            f"C{c:07d}",
            f"Customer {c}",
            SEGMENTS[seg[c]],
            RISKS[risk[c]],
            int(rng.integers(0, 100)) if c % 97 == 0 else 50,
            "{}",
            int(limit[c]),
            CURRENCIES[cur[c]],
            30,
            PLACES[c % len(PLACES)][0],
            PLACES[c % len(PLACES)][1],
            PLACES[c % len(PLACES)][2],
            "[]",
            f"ap{c}@example.com",
            "active",
            0,
            int(broken[c]),
            1,
            ts,
        )
        for c in range(n_cust)
    ]
    owner = rng.integers(0, n_cust, n_inv)
    due_offset = rng.integers(-120, 31, n_inv)  # days from the business date
    amount = rng.integers(1_000, 5_000_000, n_inv)
    partial = rng.random(n_inv) < 0.1
    open_amount = np.where(partial, amount // 2, amount)
    side = rng.random(n_inv)
    today = (as_of - EPOCH).days
    invoices, promises, disputes, notices = [], [], [], []
    for i in range(n_inv):
        dpd = -int(due_offset[i])
        due = as_of + timedelta(days=int(due_offset[i]))
        issue = due - timedelta(days=30)
        state, level, last_notice = inv_states.OPEN, 0, None
        if dpd > 0 and side[i] < 0.85:
            # Past due: the earlier cycles have moved it along, one level every ~10 days.
            level = min(3, max(0, (dpd - 3) // 10))
            state = inv_states.DUNNING if level else inv_states.OVERDUE
            if level == 3 and dpd >= 45:
                state = inv_states.ESCALATED  # the earlier cycles handed it over already
            if level:
                last_notice = as_of - timedelta(days=int((dpd - 3) % 10) + 1)
        if side[i] >= 0.95:
            state = inv_states.PROMISED
            promises.append((i + 1, int(owner[i]) + 1, int(open_amount[i]), (as_of + timedelta(days=7)).isoformat()))
        elif side[i] >= 0.93:
            state = inv_states.DISPUTED
            disputes.append((i + 1, int(owner[i]) + 1, int(open_amount[i])))
        invoices.append(
            (
                i + 1,
                int(owner[i]) + 1,
                f"INV-{i:08d}",
                issue.isoformat(),
                due.isoformat(),
                CURRENCIES[cur[owner[i]]],
                int(amount[i]),
                int(open_amount[i]),
                state,
                level,
                last_notice.isoformat() if last_notice else None,
                1,
                ts,
                ts,
            )
        )
        if last_notice is not None:
            notices.append((i + 1, int(owner[i]) + 1, level, last_notice.isoformat(), ts))
    _ = today
    return {
        "customers": customers,
        "invoices": invoices,
        "promises": promises,
        "disputes": disputes,
        "notices": notices,
    }


INSERTS = {
    "customers": (
        "customer",
        "id, external_ref, name, segment, risk_class, risk_score, risk_explanation, credit_limit, currency, "
        "payment_terms_days, timezone, country, subdivision, "
        "tags, email, state, unapplied_credit, broken_promises, version, created_at",
    ),
    "invoices": (
        "invoice",
        "id, customer, number, issue_date, due_date, currency, amount, open_amount, state, dunning_level, "
        "last_notice_on, version, created_at, updated_at",
    ),
}


def _extra_rows(rows: dict[str, list[tuple[Any, ...]]], ts: str) -> dict[str, tuple[str, str, list[tuple[Any, ...]]]]:
    promises = [(inv, cust, amt, day, 2, "active", "user:bench", ts) for inv, cust, amt, day in rows["promises"]]
    disputes = [(inv, cust, "pricing", amt, "open", ts, ts, 1) for inv, cust, amt in rows["disputes"]]
    # earlier notices were sent as messages: one per customer and day (the contact cap counts these)
    message_ids: dict[tuple[int, str], int] = {}
    for _inv, cust, _level, day, _ts in rows["notices"]:
        message_ids.setdefault((cust, day), len(message_ids) + 1)
    messages = [
        (mid, cust, "email", "email", day, "customer", "sent", "bench", "bench", 1, 1, ts, ts)
        for (cust, day), mid in message_ids.items()
    ]
    notices = [
        (inv, cust, "dun", "email", "bench", None, level, day, "bench", "bench", ts, message_ids[(cust, day)])
        for inv, cust, level, day, ts in rows["notices"]
    ]
    return {
        "promises": (
            "promise_to_pay",
            "invoice, customer, amount, promised_date, tolerance_days, status, created_by, created_at",
            promises,
        ),
        "disputes": (
            "dispute",
            "invoice, customer, reason_code, amount, state, opened_at, due_at, version",
            disputes,
        ),
        "messages": (
            "notice_message",
            "id, customer, channel, via, business_date, group_key, state, template, strategy, attempts, version, "
            "created_at, updated_at",
            messages,
        ),
        "notices": (
            "notice",
            "invoice, customer, kind, channel, template, recipient, level, business_date, rule, strategy, created_at, "
            "message",
            notices,
        ),
    }


def insert_portfolio(url: str, rows: dict[str, list[tuple[Any, ...]]], as_of: date) -> None:
    ts = (datetime(as_of.year, as_of.month, as_of.day) - timedelta(days=200)).isoformat(sep=" ")
    batches = [(table, cols, rows[key]) for key, (table, cols) in INSERTS.items()]
    batches += list(_extra_rows(rows, ts).values())
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///") :])
        with conn:
            for table, cols, data in batches:
                marks = ",".join("?" * len(cols.split(",")))
                conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", data)
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        for table, cols, data in batches:
            execute_values(cur, f"INSERT INTO {table} ({cols}) VALUES %s", data, page_size=5000)
        for table in ("customer", "invoice", "promise_to_pay", "dispute", "notice", "notice_message"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        cur.execute("ANALYZE")
    conn.close()


# ---------------------------------------------------------------- durable-rules on the same facts


def sample_facts(
    ctx: Context, strategies: StrategySet, as_of: date, limit: int
) -> tuple[list[tuple[Any, dict[str, Any], dict[str, Any]]], int]:
    """The invoice fact rows the cycle is about to evaluate (an evenly spread sample of at most
    `limit`), built by the planner's own code, one dict per row, with numpy's winners per row."""
    book = load_book(ctx.store, as_of)
    portfolio, accounts = book.portfolio, book.accounts
    total = len(portfolio)
    if total > limit:
        keep = np.zeros(total, dtype=bool)
        keep[np.linspace(0, total - 1, limit).astype(np.int64)] = True
        portfolio = portfolio.take(keep)
    per_days = {
        c.strategy.settings.contact_cap.per_days for c in strategies.strategies if c.strategy.settings.contact_cap
    }
    recent = {d: pf.recent_notice_counts(ctx.store, as_of, d) for d in per_days}
    rows: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
    pairs = np.char.add(np.char.add(portfolio.segment, "|"), portfolio.risk)
    for pair in np.unique(pairs):
        segment, risk = str(pair).split("|")
        compiled = strategies.route(segment, risk)
        g = portfolio.take(pairs == pair)
        settings = compiled.strategy.settings
        becomes_overdue = (g.state == inv_states.OPEN) & (g.today - g.due_day >= max(settings.grace_days, 1))
        g.state = np.where(becomes_overdue, inv_states.OVERDUE, g.state)
        facts = invoice_facts(g, accounts, _recent_for(compiled, g.customer_id, recent))
        names = compiled.facts("invoice")
        result = numpy_evaluate(compiled, facts, "invoice")
        columns = {name: facts[name].tolist() for name in names}
        winners = {track: won.tolist() for track, won in result.winners.items()}
        for row in range(len(g)):
            expected = {track: compiled.rules[won[row]].id for track, won in winners.items() if won[row] != NO_RULE}
            rows.append((compiled, {name: columns[name][row] for name in names}, expected))
    return rows, total


def time_durable(rows: list[tuple[Any, dict[str, Any], dict[str, Any]]]) -> tuple[float, int, Counter[str]]:
    durable = durable_engine()
    mismatches, by_rule = 0, Counter[str]()
    started = time.perf_counter()
    decided = [durable.evaluate(compiled, facts, "invoice") for compiled, facts, _ in rows]
    elapsed = time.perf_counter() - started
    for (_compiled, _facts, expected), decisions in zip(rows, decided, strict=True):
        got = {d.track: d.rule_id for d in decisions}
        mismatches += got != expected
        by_rule.update(f"{d.strategy}/{d.rule_id}" for d in decisions)
    return elapsed, mismatches, by_rule


# ---------------------------------------------------------------- main


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (the online backup API), so a cached portfolio is never half written."""
    import sqlite3

    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="database URL (default: a temp SQLite file)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 3, 2))
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--durable-sample", type=int, default=100_000, help="time durable-rules on at most this many rows"
    )
    parser.add_argument("--strategies", type=Path, default=ROOT / "strategies")
    parser.add_argument(
        "--portfolio",
        type=Path,
        default=None,
        help="SQLite only: keep the built portfolio in this file and reuse it (copied) on later runs",
    )
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of the timed cycle here")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="PostgreSQL: time the partitioned cycle with 1 and with N worker processes on copies of one "
        "portfolio (CREATE DATABASE … TEMPLATE) and report `speedup` = wall(1) / wall(N)",
    )
    parser.add_argument("--partitions", type=int, default=8, help="partitions of the date (with --workers)")
    args = parser.parse_args()
    if args.workers:
        if not (args.database or "").startswith("postgres"):
            parser.error("--workers needs --database postgresql://…")
        print(json.dumps(partitioned(args), sort_keys=True))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/cycle-bench.sqlite"
        t0 = time.perf_counter()
        if args.portfolio is not None and not url.startswith("sqlite:///"):
            parser.error("--portfolio works with SQLite only")
        if args.portfolio is not None and args.portfolio.exists():
            _copy_sqlite(args.portfolio, Path(url[len("sqlite:///") :]))
            store = Store(url)
            upgrade(store)
        else:
            store = Store(url)
            upgrade(store)
            rows = build_rows(args.invoices, args.customers, args.as_of, args.seed)
            insert_portfolio(url, rows, args.as_of)
            del rows
            if args.portfolio is not None:
                _copy_sqlite(Path(url[len("sqlite:///") :]), args.portfolio)
        build_s = time.perf_counter() - t0
        ctx = Context(store=store, clock=clock_for_date(args.as_of), settings=Settings(database_url=url))
        strategies = load_registry(args.strategies).current
        facts_rows, evaluated = sample_facts(ctx, strategies, args.as_of, args.durable_sample)
        rss_before_cycle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        profiler = cProfile.Profile() if args.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        report = run_cycle(ctx, strategies, args.as_of, chunk_size=args.chunk_size)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler is not None:
            profiler.dump_stats(str(args.profile))
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        durable_s, mismatches, durable_by_rule = time_durable(facts_rows)
        sampled = len(facts_rows)
        durable_total = durable_s * (evaluated / sampled) if sampled else 0.0
        store.disconnect()
    result = {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "invoices": args.invoices,
        "customers": args.customers,
        "invoices_evaluated": report.invoices_evaluated,
        "build_s": round(build_s, 2),
        "wall_s": round(wall, 3),
        "cycle_cpu_s": round(cpu, 3),  # this process's CPU time in the cycle (the box may be shared)
        "invoices_per_s": round(args.invoices / wall) if wall else None,
        "peak_rss_mb": round(peak_rss, 1),
        "rss_before_cycle_mb": round(rss_before_cycle, 1),
        "applied": report.applied,
        "notices": report.notices,
        "tasks": report.tasks,
        "holds_placed": report.holds_placed,
        "conflicts": report.conflicts,
        "refused": report.refused,
        "decisions_by_rule": report.by_rule,
        "durable_rules_only_s": round(durable_total, 2),
        "durable_rules_sampled_rows": sampled,
        "durable_rules_extrapolated": sampled < evaluated,
        "durable_rules_rows_per_s": round(sampled / durable_s) if durable_s else None,
        "durable_agrees": mismatches == 0,
        "durable_mismatched_rows": mismatches,
        "durable_sample_decisions_by_rule": dict(sorted(durable_by_rule.items())),
    }
    print(json.dumps(result, sort_keys=True))
    return 0


# ---------------------------------------------------------------- several worker processes (PostgreSQL)


def _admin(url: str) -> Any:
    import psycopg2

    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    return conn


def _work(url: str, strategies_dir: str, as_of: date, partitions: int, out: Any) -> None:
    """One worker process: open the date's partitions (unless open), work them until none is left."""
    from engine.cycle.partitions import open_partitions, work_partitions

    store = Store(url)
    ctx = Context(store=store, clock=clock_for_date(as_of), settings=Settings(database_url=url))
    strategies = load_registry(Path(strategies_dir)).current
    open_partitions(ctx, as_of, partitions)
    report = work_partitions(ctx, strategies, as_of)
    store.disconnect()
    out.put(report.as_dict())


def partitioned(args: argparse.Namespace) -> dict[str, Any]:
    import multiprocessing

    base = args.database.rsplit("/", 1)[0]
    template = f"o2c_bench_tpl_{os.getpid()}"
    admin = _admin(args.database)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{template}"')
    try:
        url = f"{base}/{template}"
        store = Store(url)
        upgrade(store)
        store.disconnect()
        t0 = time.perf_counter()
        rows = build_rows(args.invoices, args.customers, args.as_of, args.seed)
        insert_portfolio(url, rows, args.as_of)
        del rows
        build_s = time.perf_counter() - t0
        walls: dict[int, float] = {}
        reports: dict[int, list[dict[str, Any]]] = {}
        for n in sorted({1, args.workers}):
            name = f"o2c_bench_run_{os.getpid()}_{n}"
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            try:
                context = multiprocessing.get_context("spawn")
                out = context.Queue()
                started = time.perf_counter()
                procs = [
                    context.Process(
                        target=_work, args=(f"{base}/{name}", str(args.strategies), args.as_of, args.partitions, out)
                    )
                    for _ in range(n)
                ]
                for p in procs:
                    p.start()
                for p in procs:
                    p.join()  # the reports are small: they never fill the queue's pipe
                walls[n] = time.perf_counter() - started
                if any(p.exitcode != 0 for p in procs):
                    raise SystemExit(f"a worker failed: exit codes {[p.exitcode for p in procs]}")
                reports[n] = [out.get(timeout=10) for _ in procs]
            finally:
                with admin.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        admin.close()
    one, many = walls[1], walls[args.workers]
    return {
        "database": "postgresql",
        "invoices": args.invoices,
        "customers": args.customers,
        "partitions": args.partitions,
        "workers": args.workers,
        "build_s": round(build_s, 2),
        "wall_s_1_worker": round(one, 3),
        f"wall_s_{args.workers}_workers": round(many, 3),
        "speedup": round(one / many, 2) if many else None,
        "applied": [sum(r["applied"] for r in reports[n]) for n in sorted(reports)],
        "notices": [sum(r["notices"] for r in reports[n]) for n in sorted(reports)],
        "partitions_worked_per_worker": [r["partitions_worked"] for r in reports[args.workers]],
        "wall_s": round(many, 3),
        "invoices_per_s": round(args.invoices / many) if many else None,
    }


if __name__ == "__main__":
    sys.exit(main())
