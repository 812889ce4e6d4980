"""`o2c serve` as one box: a real subprocess runs the daily cycle through its in-process scheduler,
reports the strategies in force on /readyz and the cycle on /metrics, and hot-reloads strategy
files (a broken file on SIGHUP is refused and the old set stays; a fixed file is picked up)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from server_process import free_port

from engine.bootstrap import build_service
from engine.commands import CreateCustomer, IssueInvoice
from engine.config import Settings
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 2)
WAIT_S = 60.0  # a bound, not a timing assertion
T = TypeVar("T")


@dataclass(frozen=True)
class Box:
    url: str
    proc: subprocess.Popen[str]
    log: Path
    store: Store


def _seed(database_url: str) -> None:
    """Two customers with overdue invoices, written before the server starts."""
    service = build_service(Settings(database_url=database_url, today=TODAY.isoformat()))
    erp = Actor("import", "erp")
    for n, segment in enumerate(("smb", "mid_market")):
        customer = service.create_customer(
            CreateCustomer(f"E2E-{n}", f"Customer {n}", segment, "EUR", 10_000_000, email=f"c{n}@example.com")
        )
        for k, days in enumerate((5, 20, 45)):
            due = TODAY - timedelta(days=days)
            service.issue_invoice(
                IssueInvoice(customer.id, f"INV-{n}-{k}", 100_000, "EUR", due - timedelta(days=30), due), erp
            )
    service.ctx.store.disconnect()


def _eventually(probe: Callable[[], T | None], what: str, box: Box) -> T:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        if box.proc.poll() is not None:
            pytest.fail(f"the server exited while waiting for {what}:\n{box.log.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"no {what} within {WAIT_S:.0f} s:\n{box.log.read_text()}")


@contextmanager
def serving(tmp: Path, strategies: Path, **env: str) -> Iterator[Box]:
    database_url = f"sqlite:///{tmp / 'o2c.sqlite'}"
    _seed(database_url)
    port = free_port()
    log = tmp / "serve.log"
    full_env = {
        **os.environ,
        "O2C_DATABASE_URL": database_url,
        "O2C_TODAY": TODAY.isoformat(),
        "O2C_STRATEGIES_DIR": str(strategies),
        "O2C_CYCLE_AT": "00:00",
        "O2C_TICK_SECONDS": "1",
        "O2C_LEASE_SECONDS": "5",
        "O2C_STRATEGIES_POLL_SECONDS": "0.5",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    cmd = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    store = Store(database_url)
    box = Box(f"http://127.0.0.1:{port}", proc, log, store)
    try:

        def healthy() -> bool | None:
            try:
                return httpx.get(f"{box.url}/healthz", timeout=1).status_code == 200 or None
            except httpx.TransportError:
                return None

        _eventually(healthy, "healthy server", box)
        yield box
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        store.disconnect()


def _cycle_status(store: Store) -> str | None:
    with read_only(store) as uow:
        found = uow.select("SELECT status FROM cycle_run WHERE business_date = $d", {"d": TODAY})
    return str(found[0]) if found and found[0] == "done" else None


def _scalar(store: Store, sql: str) -> Any:
    with read_only(store) as uow:
        return uow.select(sql)[0]


@pytest.fixture
def strategies(tmp_path: Path) -> Path:
    target = tmp_path / "strategies"
    shutil.copytree(ROOT / "strategies", target)
    return target


def test_serve_runs_the_daily_cycle_in_process_and_reports_it(tmp_path: Path, strategies: Path) -> None:
    with serving(tmp_path, strategies) as box:
        assert _eventually(lambda: _cycle_status(box.store), "finished cycle run", box) == "done"
        assert int(_scalar(box.store, "SELECT COUNT(*) FROM notice")) > 0
        assert int(_scalar(box.store, "SELECT COUNT(*) FROM invoice WHERE dunning_level > 0")) > 0

        ready = httpx.get(f"{box.url}/readyz").json()
        assert ready["status"] == "ok"
        assert ready["strategies"]["count"] == len(list(strategies.glob("*.yaml")))
        assert {s["name"] for s in ready["strategies"]["inForce"]} >= {"smb-standard", "mid-market"}

        def scraped() -> str | None:
            text = httpx.get(f"{box.url}/metrics").text
            return text if "o2c_cycle_last_duration_seconds " in text else None

        metrics = _eventually(scraped, "cycle metrics", box)  # the collector caches for a few seconds
        assert 'o2c_transitions_recorded{machine="invoice",trigger="dun"}' in metrics
        assert "o2c_rule_hits_recorded{rule=" in metrics
        assert "o2c_metrics_database_up 1.0" in metrics


def test_with_no_scheduler_serve_runs_no_cycle(tmp_path: Path, strategies: Path) -> None:
    with serving(tmp_path, strategies, O2C_SCHEDULER="0") as box:
        assert httpx.get(f"{box.url}/readyz").json()["status"] == "ok"
        time.sleep(2.5)  # several would-be ticks; nothing may run
        assert int(_scalar(box.store, "SELECT COUNT(*) FROM cycle_run")) == 0
        assert "scheduler off" in box.log.read_text()


def test_a_broken_file_on_sighup_is_refused_and_a_fixed_one_is_picked_up(tmp_path: Path, strategies: Path) -> None:
    path = strategies / "smb-standard.yaml"
    good = path.read_text()
    with serving(tmp_path, strategies, O2C_SCHEDULER="0", O2C_STRATEGIES_POLL_SECONDS="3600") as box:

        def smb_hash() -> str:
            ready = httpx.get(f"{box.url}/readyz").json()
            return str(next(s["contentHash"] for s in ready["strategies"]["inForce"] if s["name"] == "smb-standard"))

        before = smb_hash()
        path.write_text(good.replace("when: dunning_level == 0", "when: dunning_levl == 0", 1))
        box.proc.send_signal(signal.SIGHUP)
        _eventually(lambda: "reload (SIGHUP) refused" in box.log.read_text() or None, "refused reload", box)
        assert "smb-standard.yaml:" in box.log.read_text() and "dunning_levl" in box.log.read_text()
        assert smb_hash() == before and box.proc.poll() is None

        fixed = good.replace("version: 1", "version: 2", 1)
        path.write_text(fixed)
        box.proc.send_signal(signal.SIGHUP)
        wanted = hashlib.sha256(fixed.encode()).hexdigest()
        _eventually(lambda: smb_hash() == wanted or None, "reloaded strategy", box)


def test_a_changed_file_is_reloaded_without_a_signal(tmp_path: Path, strategies: Path) -> None:
    path = strategies / "smb-standard.yaml"
    fixed = path.read_text().replace("version: 1", "version: 2", 1)
    with serving(tmp_path, strategies, O2C_SCHEDULER="0") as box:
        path.write_text(fixed)
        wanted = hashlib.sha256(fixed.encode()).hexdigest()

        def reloaded() -> bool | None:
            ready = httpx.get(f"{box.url}/readyz").json()
            return any(s["contentHash"] == wanted for s in ready["strategies"]["inForce"]) or None

        _eventually(reloaded, "reload on file change", box)
