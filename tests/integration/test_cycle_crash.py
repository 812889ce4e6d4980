"""Exactly once through crashes: `o2c cycle` run as a real process, killed with SIGKILL right after
chunk k committed, then run again without the fault, leaves the database exactly as one
uninterrupted run over an identical copy of the portfolio does."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from cycle_support import STRATEGIES, Portfolio

from engine.clock import clock_for_date
from engine.commands import OpenDispute, RecordPromise
from engine.config import Settings
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.upgrades import upgrade
from states.actors import person

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 2)
O2C = str(Path(sys.executable).parent / "o2c")
SEGMENTS = (("smb", "low"), ("smb", "high"), ("mid_market", "medium"), ("enterprise", "critical"))
CUSTOMERS = 24
INVOICES_PER_CUSTOMER = 14  # 336 invoices


# Rules that would act again on a second pass over the same date (a reminder every day before the
# due date, a task every day for old debts), so that only the cycle's own bookkeeping keeps a
# re-run from repeating work; no contact cap, so every decision shows.
EVERY_DAY = """\
strategy: every-day
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 2
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: daily-reminder
    when: days_to_due >= 1
    then:
      - remind: {channel: email, template: daily_reminder}
  - id: old-debt-task
    track: follow-up
    when: days_past_due >= 40
    then:
      - create_task: {queue: old-debts, note: "call them"}
  - id: escalate-at-level-2
    when: dunning_level >= 2 and days_past_due >= 50
    then:
      - escalate: {to: collector}
  - id: first-notice
    when: dunning_level == 0
    then:
      - dun: {channel: email, template: first}
  - id: next-notice
    when: dunning_level >= 1 and days_since_last_notice >= 1
    then:
      - dun: {channel: letter, template: next}
  - id: hold-at-30-days
    when: account.max_days_past_due >= 30
    then:
      - credit_hold: {reason: overdue}
"""


@pytest.fixture(scope="module", params=["shipped", "every-day"])
def strategies_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "shipped":
        return STRATEGIES
    folder = tmp_path_factory.mktemp("every-day")
    (folder / "every-day.yaml").write_text(EVERY_DAY)
    return folder


def build_portfolio(url: str) -> None:
    """A few hundred invoices in four strategies, due from 60 days ago to 10 days ahead, some
    promised or disputed; built through the service layer, the same way every time."""
    store = Store(url)
    upgrade(store)
    service = Collections(Context(store=store, clock=clock_for_date(DAY), settings=Settings(database_url=url)))
    book = Portfolio(service, DAY)
    for c in range(CUSTOMERS):
        segment, risk = SEGMENTS[c % len(SEGMENTS)]
        book.customer(f"C{c:03d}", segment, risk)
        for k in range(INVOICES_PER_CUSTOMER):
            invoice = book.invoice(f"C{c:03d}", (c * 7 + k * 5) % 70 - 10)
            if (c + k) % 23 == 0:
                service.record_promise(
                    RecordPromise(invoice_id=invoice, amount=50_000, promised_date=DAY + timedelta(days=4)),
                    person("alice"),
                )
            elif (c + k) % 29 == 0:
                service.open_dispute(OpenDispute(invoice_id=invoice, reason_code="pricing"), person("alice"))
    store.disconnect()


def copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run_o2c(
    url: str, strategies: Path, *args: str, kill_after_chunk: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "O2C_DATABASE_URL": url,
        "O2C_STRATEGIES_DIR": str(strategies),
        "O2C_TODAY": DAY.isoformat(),
    }
    env.pop("O2C_CRASH_AT", None)
    if kill_after_chunk is not None:  # chunks count from 0, occurrences from 1
        env["O2C_CRASH_AT"] = f"cycle.chunk_written:{kill_after_chunk + 1}"
    return subprocess.run(
        # the cycle alone (the messages it requests are rendered by `o2c notices render`), as the partitions do
        [O2C, "cycle", "--as-of", DAY.isoformat(), "--chunk-size", "10", "--json", "--no-render", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def snapshot(url: str) -> dict[str, Any]:
    """Everything the cycle decides, keyed by business identifiers (not row ids or times)."""
    invoices = {
        number: (state, int(level), str(last_cycle)[:10] if last_cycle else None, int(version))
        for number, state, level, last_cycle, version in _query(
            url, "SELECT number, state, dunning_level, last_cycle_on, version FROM invoice"
        )
    }
    notices = Counter(
        (number, str(day)[:10], int(level), template)
        for number, day, level, template in _query(
            url,
            "SELECT i.number, n.business_date, n.level, n.template FROM notice n JOIN invoice i ON i.id = n.invoice",
        )
    )
    history = Counter(
        (number, trigger, from_state, to_state, actor)
        for number, trigger, from_state, to_state, actor in _query(
            url,
            "SELECT i.number, h.trigger, h.from_state, h.to_state, h.actor FROM transition_history h "
            "JOIN invoice i ON i.id = h.entity_id WHERE h.entity_type = 'invoice'",
        )
    )
    accounts = {
        ref: (state, int(version))
        for ref, state, version in _query(url, "SELECT external_ref, state, version FROM customer")
    }
    holds = Counter(
        (ref, reason, released is None)
        for ref, reason, released in _query(
            url,
            "SELECT c.external_ref, h.reason, h.released_at FROM credit_hold h JOIN customer c ON c.id = h.customer",
        )
    )
    return {
        "invoices": invoices,
        "notices": notices,
        "history": history,
        "accounts": accounts,
        "holds": holds,
        "tasks": Counter(
            (ref, queue)
            for ref, queue in _query(
                url, "SELECT c.external_ref, t.queue FROM collector_task t JOIN customer c ON c.id = t.customer"
            )
        ),
        "outbox": _query(url, "SELECT COUNT(*) FROM outbox")[0][0],
        "history_rows": _query(url, "SELECT COUNT(*) FROM transition_history")[0][0],
        "runs": [(str(d)[:10], status) for d, status in _query(url, "SELECT business_date, status FROM cycle_run")],
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "portfolio.sqlite"
    build_portfolio(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="module")
def uninterrupted(template: Path, strategies_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("reference") / "o2c.sqlite"
    copy_sqlite(template, path)
    url = f"sqlite:///{path}"
    done = run_o2c(url, strategies_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["notices"] > 20 and report["applied"] > report["notices"]
    return {"report": report, "db": snapshot(url)}


def _assert_exactly_once(crashed_then_rerun: dict[str, Any], reference: dict[str, Any]) -> None:
    assert crashed_then_rerun == reference
    per_invoice_and_date = Counter((number, day) for number, day, _, _ in crashed_then_rerun["notices"].elements())
    assert max(per_invoice_and_date.values()) == 1


@pytest.mark.parametrize("chunk", [0, 1, 3])
def test_a_cycle_killed_after_a_chunk_and_run_again_ends_exactly_like_an_uninterrupted_run(
    chunk: int, template: Path, strategies_dir: Path, uninterrupted: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "o2c.sqlite"
    copy_sqlite(template, path)
    url = f"sqlite:///{path}"

    crashed = run_o2c(url, strategies_dir, kill_after_chunk=chunk)
    after_crash = snapshot(url)
    rerun = run_o2c(url, strategies_dir)

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert crashed.stdout == ""  # it died before reporting
    # the crash left part of the work committed, and only part
    written = sum(after_crash["notices"].values())
    assert 0 < written < uninterrupted["report"]["notices"]
    assert after_crash["runs"] == [(DAY.isoformat(), "running")]
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert report["notices"] == uninterrupted["report"]["notices"] - written
    _assert_exactly_once(snapshot(url), uninterrupted["db"])


def test_a_cycle_run_again_after_completing_changes_nothing(
    strategies_dir: Path, uninterrupted: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "o2c.sqlite"
    url = f"sqlite:///{path}"
    build_portfolio(url)
    assert run_o2c(url, strategies_dir).returncode == 0
    first = snapshot(url)

    again = run_o2c(url, strategies_dir)

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["already_done"] is True
    assert snapshot(url) == first == uninterrupted["db"]


@pytest.mark.postgres
def test_on_postgresql_a_cycle_killed_after_a_chunk_and_run_again_ends_like_an_uninterrupted_run(
    pg_url: str, strategies_dir: Path, uninterrupted: dict[str, Any]
) -> None:
    build_portfolio(pg_url)

    crashed = run_o2c(pg_url, strategies_dir, kill_after_chunk=1)
    written = sum(snapshot(pg_url)["notices"].values())
    rerun = run_o2c(pg_url, strategies_dir)

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert 0 < written < uninterrupted["report"]["notices"]
    assert rerun.returncode == 0, rerun.stderr
    # the same portfolio on PostgreSQL, crashed and resumed, ends as the uninterrupted SQLite run
    _assert_exactly_once(snapshot(pg_url), uninterrupted["db"])


def _full_url(path: Path, spare_pages: int) -> str:
    """The database capped at its present size plus `spare_pages` pages (4 KiB each)."""
    with sqlite3.connect(path) as conn:
        used = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
    return f"sqlite:///{path}?max_page_count={used + spare_pages}"


def _facts_and_events(url: str, ignored: tuple[str, ...] = ()) -> dict[str, Counter[tuple[Any, ...]]]:
    """What the snapshot leaves out: the facts each transition was decided on, and the outbox."""

    def kept(facts: str) -> str:
        return json.dumps({k: v for k, v in json.loads(facts).items() if k not in ignored}, sort_keys=True)

    return {
        "facts": Counter(
            (entity_type, entity_id, trigger, kept(facts))
            for entity_type, entity_id, trigger, facts in _query(
                url, "SELECT entity_type, entity_id, trigger, facts FROM transition_history"
            )
        ),
        "outbox": Counter(_query(url, "SELECT type, subject, entity_version FROM outbox")),
    }


@pytest.mark.parametrize("spare_pages", [0, 40])
def test_a_cycle_that_fills_the_disk_says_so_in_one_line_and_run_again_ends_like_an_uninterrupted_run(
    spare_pages: int, template: Path, strategies_dir: Path, uninterrupted: dict[str, Any], tmp_path: Path
) -> None:
    """A full disk for real, not a mock: the URL's page cap (`?max_page_count=`) makes SQLite itself
    refuse to grow the file with SQLITE_FULL, "database or disk is full" — the error a full file
    system gives. (A tmpfs or loop device that really fills needs mounts this box does not allow.)
    With no spare page the first write fails; with a few, some chunks commit before the disk is full."""
    reference = tmp_path / "reference.sqlite"
    copy_sqlite(template, reference)
    assert run_o2c(f"sqlite:///{reference}", strategies_dir).returncode == 0
    path = tmp_path / "o2c.sqlite"
    copy_sqlite(template, path)
    url = f"sqlite:///{path}"

    full = run_o2c(_full_url(path, spare_pages), strategies_dir)
    written = sum(snapshot(url)["notices"].values())
    rerun = run_o2c(url, strategies_dir)  # the disk has room again: no cap

    assert full.returncode != 0 and full.stdout == ""
    assert "Traceback" not in full.stderr
    (line,) = full.stderr.strip().splitlines()
    assert line.startswith("o2c: UNAVAILABLE: ") and "disk is full" in line
    assert written < uninterrupted["report"]["notices"]
    assert (written > 0) == (spare_pages > 0)  # with room for a few chunks, a few chunks committed
    assert rerun.returncode == 0, rerun.stderr
    _assert_exactly_once(snapshot(url), uninterrupted["db"])
    # Facts included: `recent_notices` counts the dates before, not what the failed run wrote.
    assert _facts_and_events(url) == _facts_and_events(f"sqlite:///{reference}")
