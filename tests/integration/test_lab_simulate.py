"""`o2c simulate` on SQLite and PostgreSQL: the backtest runs the real cycle day by day on a copy
(the live database is never written), customers pay per the response model learned from their
history, the same seed gives the same result, two sets run side by side, and `--plot` writes a PNG."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import TODAY
from cycle_support import STRATEGIES, Portfolio, clear_cycle_tables, counts, daily_ladder, shipped_strategies
from graphql_harness import codes, data
from test_graphql_strategies import run_with

from api.cli import main
from engine.clock import FixedClock, clock_for_date
from engine.commands import AllocationLine, RecordPayment
from engine.lab.response import NEVER, HistoryResponse
from engine.lab.simulate import backtest
from engine.rules.registry import Registry
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from states.actors import Actor

BANK = Actor("payment", "bank-feed")


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


def history_and_book(service: Collections, clock: FixedClock) -> Portfolio:
    """Customers who paid earlier invoices 10 to 20 days late, and today's open invoices."""
    book = Portfolio(service, TODAY)
    for n in range(8):
        name = f"c{n}"
        book.customer(name, "smb" if n % 2 else "mid_market", "low")
        for k, late in enumerate((10, 15, 20)):
            paid_on = TODAY - timedelta(days=40 - k)
            invoice_id = book.invoice(name, (TODAY - paid_on).days + late)
            clock.set(clock_for_date(paid_on).now())
            service.apply_payment(
                RecordPayment(book.customers[name], f"H{n}-{k}", 100_000, "EUR", paid_on,
                              (AllocationLine(100_000, invoice_id=invoice_id),)),
                BANK,
            )  # fmt: skip
        clock.set(clock_for_date(TODAY).now())
        for dpd in (-5, 2, 8):
            book.invoice(name, dpd)
    return book


def test_the_response_model_learns_each_customer_s_delays(
    service: Collections, clock: FixedClock, store: Store
) -> None:
    history_and_book(service, clock)
    model = HistoryResponse.learn(store)
    assert model.learned_from == 24 and sorted(set(model.everyone)) == [10, 15, 20]
    rng = np.random.default_rng(3)
    today = 20_000
    days = model.pay_days(np.asarray([1, 1, 1]), np.asarray([today - 12, today - 25, today + 5]), today, rng)
    assert days[0] - (today - 12) in (15, 20)  # already 12 days late: only the longer delays remain
    assert days[1] == NEVER  # later than anything this customer ever paid
    assert days[2] - (today + 5) in (10, 15, 20)
    model.reaction_share, model.reaction_gaps = 0.5, [2, 3]
    sooner = model.after_notice(1000, today, np.random.default_rng(4))
    reacted = sooner[sooner != NEVER] - today
    assert 400 < reacted.size < 600 and set(reacted.tolist()) == {2, 3}
    assert np.array_equal(sooner, model.after_notice(1000, today, np.random.default_rng(4)))


def test_a_backtest_reads_a_copy_repeats_with_its_seed_and_compares_two_sets(
    service: Collections, clock: FixedClock, store: Store, tmp_path: Path
) -> None:
    history_and_book(service, clock)
    before = counts(store)
    sets = [("in force", shipped_strategies()), ("ladder", daily_ladder(tmp_path / "ladder"))]
    steps: list[tuple[int, int]] = []
    first = backtest(store, sets, TODAY, 12, seed=5, progress=lambda d, t: steps.append((d, t)))
    assert counts(store) == before  # the live database is never written
    assert steps[-1] == (24, 24) and len(steps) == 24
    again = backtest(store, sets, TODAY, 12, seed=5)
    assert again.as_dict() == first.as_dict()
    in_force, ladder = first.outcomes
    assert in_force.learned_from == 24 and in_force.customers == 8
    assert in_force.cash["EUR"] > 0
    assert ladder.messages > in_force.messages  # the ladder duns every day
    assert len(in_force.days) == 12 and first.headline_currency == "EUR"
    assert in_force.dso_start["EUR"] is not None and in_force.cei["EUR"] is not None
    for outcome in first.outcomes:  # no new invoices: receivables fall by exactly the cash collected
        later = sum(d.cash.get("EUR", 0) for d in outcome.days[1:])
        assert outcome.days[-1].receivables["EUR"] == outcome.days[0].receivables["EUR"] - later


def test_the_simulate_command_prints_json_and_plots(
    service: Collections, clock: FixedClock, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    history_and_book(service, clock)
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(STRATEGIES))
    candidate = tmp_path / "candidate"
    shutil.copytree(STRATEGIES, candidate)
    chart = tmp_path / "chart.png"
    argv = ["simulate", "--days", "5", "--as-of", TODAY.isoformat(), "--strategies", str(candidate), "--seed", "2"]
    assert main([*argv, "--json", "--plot", str(chart)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["strategies"] for o in out["outcomes"]] == ["in force", "candidate"]
    assert out["outcomes"][0]["days"] == out["outcomes"][1]["days"]  # the same set, the same seed
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    assert main(argv) == 0
    assert "DSO" in capsys.readouterr().out
    if database_url.startswith("sqlite"):  # a snapshot: here a backup file of the live database
        snapshot = tmp_path / "snapshot.sqlite"
        with sqlite3.connect(database_url[len("sqlite:///") :]) as live, sqlite3.connect(snapshot) as copy:
            live.backup(copy)
        assert main([*argv, "--json", "--snapshot", f"sqlite:///{snapshot}"]) == 0
        assert json.loads(capsys.readouterr().out)["outcomes"] == out["outcomes"]
    assert main(["simulate", "--days", "0"]) == 2


START = """mutation($days: Int!, $files: [StrategyFileInput!]) { startBacktest(days: $days, seed: 3,
  asOf: "2026-03-02", files: $files) { id status daysTotal } }"""
FOLLOW = """query($id: ID!) { backtest(id: $id) { status daysDone daysTotal progress error result {
  headlineCurrency outcomes { strategies cash { minor currency } dsoStart dsoEnd cei messagesPerCustomer
  days { businessDate cash { minor } dso } } } } }"""


def test_a_backtest_started_through_graphql_runs_in_the_background_with_progress(
    ctx: Context, service: Collections, clock: FixedClock, store: Store, tmp_path: Path
) -> None:
    history_and_book(service, clock)
    folder = tmp_path / "in-force"
    shutil.copytree(STRATEGIES, folder)
    registry = Registry(folder)
    assert registry.reload().ok
    smb = (folder / "smb-standard.yaml").read_text().replace("grace_days: 3", "grace_days: 1")
    files = [{"name": "smb-standard.yaml", "source": smb}]
    started = data(run_with(ctx, registry, START, {"days": 4, "files": files}))["startBacktest"]
    assert started["status"] == "running" and started["daysTotal"] == 8
    for _ in range(600):  # bounded wait for the worker thread, not a timing
        found = data(run_with(ctx, registry, FOLLOW, {"id": started["id"]}))["backtest"]
        if found["status"] != "running":
            break
        assert 0 <= found["progress"] <= 1
        time.sleep(0.1)
    assert found["status"] == "done", found["error"]
    assert found["daysDone"] == found["daysTotal"] == 8 and found["progress"] == 1.0
    outcomes = found["result"]["outcomes"]
    assert [o["strategies"] for o in outcomes] == ["in force", "candidate"]
    assert len(outcomes[0]["days"]) == 4 and found["result"]["headlineCurrency"] == "EUR"
    broken = [{"name": "smb-standard.yaml", "source": smb.replace("dunning_level == 0", "dunning_levl == 0")}]
    refused = run_with(ctx, registry, START, {"days": 4, "files": broken})
    assert codes(refused) == ["VALIDATION_FAILED"] and "smb-standard.yaml:" in str(refused.errors)
    assert codes(run_with(ctx, registry, FOLLOW, {"id": "nope"})) == ["NOT_FOUND"]
    assert codes(run_with(ctx, registry, START, {"days": 4}, role="collector")) == ["FORBIDDEN"]
