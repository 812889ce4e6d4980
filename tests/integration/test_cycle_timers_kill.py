"""A business date's timers belong to that date: `o2c cycle` killed after a date's cycle committed
and before its timers ran, then run again for the next date, ends exactly as an uninterrupted run
— the promise due that date is judged that date, not a day late, and the next cycle sees it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle_support import STRATEGIES, Portfolio, rows, shipped_strategies

from api.cli import main
from engine.bootstrap import build_context
from engine.clock import clock_for_date
from engine.commands import RecordPromise
from engine.config import Settings
from engine.cycle.runner import run_cycle
from engine.service import Collections
from states.actors import person

D1 = date(2026, 3, 2)
D2 = D1 + timedelta(days=1)


def _seed(url: str) -> None:
    ctx = build_context(Settings(database_url=url), clock=clock_for_date(D1 - timedelta(days=5)))
    service = Collections(ctx)
    book = Portfolio(service, D1 - timedelta(days=5))
    book.customer("late", "smb", "low")
    for dpd in (2, 9, 20):
        invoice = book.invoice("late", dpd)
        # promised for D1 − 3: with the tolerance of 2 days its timer is due on D1
        service.record_promise(RecordPromise(invoice, 5_000, D1 - timedelta(days=3)), person("ann"))
    book.invoice("late", 15)
    ctx.store.disconnect()


def _outcome(url: str) -> list[Any]:
    ctx = build_context(Settings(database_url=url), migrate=False)
    try:
        return [
            rows(ctx.store, "SELECT id, status FROM promise_to_pay ORDER BY id"),
            rows(ctx.store, "SELECT id, state, dunning_level, last_notice_on FROM invoice ORDER BY id"),
            rows(
                ctx.store,
                "SELECT entity_type, entity_id, entity_version, from_state, to_state, trigger, facts"
                " FROM transition_history ORDER BY entity_type, entity_id, entity_version",
            ),
            rows(ctx.store, "SELECT invoice, business_date, level FROM notice ORDER BY invoice, business_date"),
        ]
    finally:
        ctx.store.disconnect()


def _cli(monkeypatch: pytest.MonkeyPatch, url: str, day: date) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_TODAY", day.isoformat())
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(STRATEGIES))
    assert main(["cycle", "--as-of", day.isoformat(), "--json"]) == 0


def test_a_kill_between_a_dates_cycle_and_its_timers_ends_like_an_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, killed = (f"sqlite:///{tmp_path / name}.sqlite" for name in ("whole", "killed"))
    for url in (whole, killed):
        _seed(url)

    _cli(monkeypatch, whole, D1)  # the cycle of D1, then its timers
    _cli(monkeypatch, whole, D2)

    ctx = build_context(Settings(database_url=killed), clock=clock_for_date(D1))
    run_cycle(ctx, shipped_strategies(), D1)  # committed; the process dies before the timers of D1
    ctx.store.disconnect()
    _cli(monkeypatch, killed, D2)  # run again the next day

    expected, got = _outcome(whole), _outcome(killed)
    assert any(status == "broken" for _, status in expected[0])  # the scenario judges promises on D1
    assert got == expected
