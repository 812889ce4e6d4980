"""`o2c cycle` catching up dates never lets a later date overtake one whose partitions another
worker still holds (that could skip a dunning level)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from cycle_support import clear_cycle_tables

from engine.cycle.partitions import claim, open_partitions
from engine.services.context import Context
from engine.store.unit_of_work import read_only

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 2)


def test_the_catch_up_stops_at_a_date_another_live_worker_still_holds(ctx: Context, database_url: str) -> None:
    clear_cycle_tables(ctx.store)
    open_partitions(ctx, DAY, 1)
    assert claim(ctx, DAY, "elsewhere:1:x", 600) is not None  # a live worker on another host
    ctx.store.disconnect()

    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "cycle", "--as-of", (DAY + timedelta(days=1)).isoformat(), "--json"],
        cwd=ROOT,
        env={**os.environ, "O2C_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["business_date"], report["pending_partitions"]) == (DAY.isoformat(), 1)
    with read_only(ctx.store) as uow:
        runs = sorted((str(d)[:10], s) for d, s in uow.select("SELECT business_date, status FROM cycle_run"))
    assert runs == [(DAY.isoformat(), "running")]  # the next date was not started
