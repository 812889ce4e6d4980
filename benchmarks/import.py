"""Import benchmark: generate a CSV of invoices, import it end to end through `o2c import`.

    .venv/bin/python benchmarks/import.py [--rows 100000] [--customers 1000] [--database URL]

Customers are imported first (not timed); the timed part is `o2c import invoices FILE` in this
process: parsing, checking every row against the file and the database, and writing invoices
with their history and outbox rows in one transaction. The last line is JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np


def write_csvs(folder: Path, rows: int, customers: int, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    cust = folder / "customers.csv"
    with cust.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["external_ref", "name", "segment", "currency", "credit_limit", "payment_terms_days"])
        for i in range(customers):
            w.writerow([f"C{i:06d}", f"Customer {i}", "smb", "EUR", "100000.00", 30])
    inv = folder / "invoices.csv"
    owners = rng.integers(0, customers, rows)
    cents = rng.integers(1_000, 5_000_000, rows)
    offsets = rng.integers(0, 365, rows)
    start = date(2025, 3, 1)
    with inv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_ref", "number", "issue_date", "due_date", "amount", "currency"])
        for i in range(rows):
            w.writerow(
                [
                    f"C{owners[i]:06d}",
                    f"INV-{i:08d}",
                    (start + timedelta(days=int(offsets[i]))).isoformat(),
                    "",
                    f"{cents[i] // 100}.{cents[i] % 100:02d}",
                    "EUR",
                ]
            )
    return cust, inv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database", default=None, help="database URL (default: a temp SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database or f"sqlite:///{folder}/bench.sqlite"
        os.environ["O2C_DATABASE_URL"] = url
        from api.cli import main as o2c
        from engine.store.database import Store
        from engine.store.upgrades import upgrade

        upgrade(Store(url))
        customers_csv, invoices_csv = write_csvs(folder, args.rows, args.customers, args.seed)
        if o2c(["import", "customers", str(customers_csv), "--no-progress"]) != 0:
            return 1
        started = time.perf_counter()
        code = o2c(["import", "invoices", str(invoices_csv), "--no-progress"])
        wall = time.perf_counter() - started
        if code != 0:
            return code
        result = {
            "rows": args.rows,
            "wall_s": round(wall, 3),
            "rows_per_s": round(args.rows / wall),
            "database": url.split("://", 1)[0],
        }
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
