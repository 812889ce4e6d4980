"""Risk scoring benchmark: 100,000 customers with 1,000,000 paid invoices (one payment each)
and 100,000 open invoices (10 % of the ledger, most of them overdue).

    .venv/bin/python benchmarks/scoring.py [--customers 100000] [--payments 1000000]
        [--open-invoices 100000] [--database URL]

Builds the data with the bulk module (not timed), then runs the real bulk job, `score_all`,
three times: the first scoring stores a new score, class and explanation for every customer
(never scored before: their class changes without events); the same again on unchanged data
finds nothing to write; the next business day moves the scores of customers with overdue
invoices and journals their class changes (history row + event each). `score_all` times its
own steps: load (the inputs from the database), compute (numpy), write (explanations, update,
journal, commit). The 2 s target is about `total_s` of the first scoring, which writes the most.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from engine.importer.write import ALLOCATION_COLUMNS, CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS
from engine.scoring import score_all
from engine.store.bulk import Bulk
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.store.upgrades import upgrade

TODAY = date(2026, 3, 2)


def build(store: Store, customers: int, payments: int, open_invoices: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    owner = rng.integers(1, customers + 1, payments)
    amount = rng.integers(1_000, 1_000_000, payments)
    issued = rng.integers(0, 365, payments)
    late = np.clip(rng.normal(5, 15, payments).astype(np.int64), -20, 120)
    limits = rng.integers(10, 500, customers) * 100_000
    now = datetime(2026, 3, 2, 12)
    start = TODAY - timedelta(days=400)
    days = [start + timedelta(days=int(d)) for d in range(600)]
    with UnitOfWork(store, write=True) as uow:
        b = Bulk(uow)
        at, empty = b.moment(now), b.json({})
        b.insert(
            "customer",
            CUSTOMER_COLUMNS,
            [
                (i, f"C{i}", f"Customer {i}", "smb", "medium", 50, empty, int(limits[i - 1]), "EUR", 30, "UTC",
                 None, None, "[]", None, "active", 0, int(i % 4 == 0), 1, at)
                for i in range(1, customers + 1)
            ],
        )  # fmt: skip
        rows = []
        for k in range(payments):
            d = int(issued[k])
            rows.append(
                (k + 1, int(owner[k]), f"I{k}", b.day(days[d]), b.day(days[d + 30]), "EUR", int(amount[k]), 0,
                 "paid", 0, None, b.day(days[d + 30 + int(late[k])]), 3, at, at)
            )  # fmt: skip
        states = ("open", "overdue", "dunning", "promised", "disputed")
        owner_open = rng.integers(1, customers + 1, open_invoices)
        due_in = rng.integers(-120, 30, open_invoices)  # days from today; most are past due
        state = rng.integers(0, len(states), open_invoices)
        for k in range(open_invoices):
            due = TODAY + timedelta(days=int(due_in[k]))
            st = "open" if due >= TODAY else states[1 + int(state[k]) % 4]
            total = int(amount[k % payments])
            rows.append(
                (payments + k + 1, int(owner_open[k]), f"O{k}", b.day(due - timedelta(days=30)), b.day(due), "EUR",
                 total, total // (1 + k % 3), st, int(st == "dunning"), None, None, 1, at, at)
            )  # fmt: skip
        b.insert("invoice", INVOICE_COLUMNS, rows)
        rows = rows[:payments]
        b.insert(
            "payment",
            PAYMENT_COLUMNS,
            [(k + 1, r[1], f"P{k}", r[11], "EUR", r[6], 0, None, at) for k, r in enumerate(rows)],
        )
        b.insert("allocation", ALLOCATION_COLUMNS, [(k + 1, k + 1, r[6]) for k, r in enumerate(rows)])
        uow.commit()
    if store.is_postgres:  # autovacuum gives a database in use its planner statistics
        with UnitOfWork(store, write=True) as uow:
            Bulk(uow).conn.cursor().execute("ANALYZE")
            uow.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--open-invoices", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database", default=None, help="an empty database URL (default: a temp SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp)}/scoring.sqlite"
        store = Store(url)
        upgrade(store)
        t0 = time.perf_counter()
        build(store, args.customers, args.payments, args.open_invoices, args.seed)
        build_s = time.perf_counter() - t0
        now = datetime(2026, 3, 2, 22, tzinfo=UTC)
        first = score_all(store, TODAY, now=now)
        again = score_all(store, TODAY, now=now)
        later = score_all(store, TODAY + timedelta(days=1), now=now + timedelta(days=1))
        store.disconnect()
    classes, counts = np.unique(first.scores.risk_class, return_counts=True)
    result = {
        "customers": args.customers,
        "payments": args.payments,
        "open_invoices": args.open_invoices,
        "database": url.split("://", 1)[0],
        "build_s": round(build_s, 3),
        **{f"{step}_s": round(seconds, 3) for step, seconds in first.seconds.items()},
        "changed": first.changed,
        "class_changed": first.class_changed,
        "unchanged_total_s": round(again.seconds["total"], 3),
        "unchanged_changed": again.changed,
        "next_day_total_s": round(later.seconds["total"], 3),
        "next_day_changed": later.changed,
        "next_day_journaled": later.journaled,
        "classes": {str(c): int(n) for c, n in zip(classes, counts, strict=True)},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
