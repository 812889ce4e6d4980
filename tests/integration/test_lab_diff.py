"""`o2c strategies diff` on SQLite and PostgreSQL: both sets planned on one load of the portfolio;
the totals equal those of two real dry runs, the changed invoices equal the difference between
two real cycles run on copies of the same database, nothing is written, and an invalid candidate
is refused with FILE:LINE:COL."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle_support import STRATEGIES, Portfolio, clear_cycle_tables, counts, rows, shipped_strategies

from api.cli import main
from engine.clock import clock_for_date
from engine.commands import RecordPromise
from engine.config import Settings
from engine.cycle.runner import run_cycle
from engine.lab.diff import StrategyDiff, candidate_set, diff_strategies
from engine.rules.directory import load_directory
from engine.rules.errors import StrategyError
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from states.actors import person

TODAY = date(2026, 3, 2)  # the business date of the `clock` fixture


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


def candidate_dir(tmp_path: Path) -> Path:
    """The shipped set with a stricter smb-standard: one day of grace, the first notice by SMS,
    the hold at 20 days, at most three notices a week."""
    target = tmp_path / "candidate"
    shutil.copytree(STRATEGIES, target)
    smb = target / "smb-standard.yaml"
    text = smb.read_text()
    for old, new in (
        ("grace_days: 3", "grace_days: 1"),
        ("{channel: email, template: smb_dunning_1}", "{channel: sms, template: smb_dunning_1}"),
        ("account.max_days_past_due >= 30", "account.max_days_past_due >= 20"),
        ("contact_cap: {max: 2, per_days: 7}", "contact_cap: {max: 3, per_days: 7}"),
    ):
        assert old in text
        text = text.replace(old, new)
    smb.write_text(text)
    return target


def portfolio(service: Collections) -> Portfolio:
    book = Portfolio(service, TODAY)
    for name, segment, risk in (
        ("smb-a", "smb", "low"),
        ("smb-b", "smb", "medium"),
        ("mm", "mid_market", "high"),
        ("ent", "enterprise", "low"),
    ):
        book.customer(name, segment, risk)
        for dpd in (-3, 1, 2, 4, 12, 21, 25, 35):
            book.invoice(name, dpd)
    book.customer("smb-c", "smb", "low")
    book.invoice("smb-c", 22)  # held at 20 days by the candidate, not at 30 as in force
    promised = book.invoice("smb-a", 6)
    service.record_promise(
        RecordPromise(invoice_id=promised, amount=100_000, promised_date=TODAY + timedelta(days=5)), person("ann")
    )
    return book


def test_the_diff_totals_equal_two_real_dry_runs_and_nothing_is_written(
    ctx: Context, service: Collections, store: Store, tmp_path: Path
) -> None:
    portfolio(service)
    before, after = shipped_strategies(), candidate_set(load_directory(candidate_dir(tmp_path)), "candidate")
    written = counts(store)
    found = diff_strategies(store, before, after, TODAY)
    assert counts(store) == written
    for side, strategies in (("before", before), ("after", after)):
        dry = run_cycle(ctx, strategies, TODAY, dry_run=True)
        assert {rule: t[side] for rule, t in found.by_rule.items() if t[side]} == dry.by_rule
        assert found.totals["notices"][side] == dry.notices
        assert found.totals["tasks"][side] == dry.tasks
        assert found.totals["transitions"][side] + dry.holds_placed + dry.holds_released == dry.applied
        assert found.invoices_evaluated == dry.invoices_evaluated
    assert counts(store) == written
    smb = {c.invoice_id for c in found.invoices if c.segment == "smb"}
    assert smb and smb == {c.invoice_id for c in found.invoices}  # only smb-standard changed
    assert found.by_rule["smb-standard/first-notice"]["change"] != 0
    assert found.by_channel["sms"]["notices_after"] > found.by_channel["sms"]["notices_before"]
    assert found.by_segment["smb"]["invoices_changed"] == len(smb)
    assert all(c.after.cap == 3 and c.before.cap == 2 for c in found.customers)
    assert found.contact["customers_with_more_messages"] == 2  # an email reminder and an SMS notice
    more = [c for c in found.customers if c.after.messages > c.before.messages]
    assert all(c.after.messages == 2 and c.before.messages == 1 for c in more)
    (held,) = [c for c in found.customers if c.after.orders != c.before.orders]
    assert (held.before.orders, held.after.orders) == ((), ("credit_hold overdue by smb-standard/hold-at-30-days",))


def test_a_candidate_equal_to_the_set_in_force_changes_nothing(service: Collections, store: Store) -> None:
    portfolio(service)
    found = diff_strategies(store, shipped_strategies(), candidate_set(load_directory(STRATEGIES), "same"), TODAY)
    assert found.invoices == [] and found.customers == []
    assert all(t["change"] == 0 for t in found.by_rule.values()) and found.by_rule


def _outcome(url: str, strategies: StrategySet) -> dict[int, Any]:
    """Run the real cycle of TODAY on this database; what it did to each invoice."""
    store = Store(url)
    ctx = Context(store=store, clock=clock_for_date(TODAY), settings=Settings(database_url=url))
    run_cycle(ctx, strategies, TODAY)
    found: dict[int, Any] = {
        int(i): (str(s), int(lv), None, None)
        for i, s, lv in rows(store, "SELECT id, state, dunning_level FROM invoice")
    }
    for i, kind, channel, template in rows(store, "SELECT invoice, kind, channel, template FROM notice"):
        found[int(i)] = (*found[int(i)][:2], (str(kind), str(channel), str(template)), None)
    for i, queue in rows(store, "SELECT invoice, queue FROM collector_task"):
        found[int(i)] = (*found[int(i)][:3], str(queue))
    holds = rows(store, "SELECT customer, reason FROM credit_hold WHERE released_at IS NULL")
    store.disconnect()
    return {"invoices": found, "holds": sorted((int(c), str(r)) for c, r in holds)}  # type: ignore[dict-item]


def _copy(url: str, target: Path) -> str:
    with sqlite3.connect(url[len("sqlite:///") :]) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_changed_invoices_are_exactly_where_two_real_cycles_differ(
    service: Collections, store: Store, database_url: str, tmp_path: Path
) -> None:
    portfolio(service)
    before, after = shipped_strategies(), candidate_set(load_directory(candidate_dir(tmp_path)), "candidate")
    found: StrategyDiff = diff_strategies(store, before, after, TODAY)
    store.disconnect()
    ran = [_outcome(_copy(database_url, tmp_path / f"{k}.sqlite"), s) for k, s in enumerate((before, after))]
    differ = {i for i, outcome in ran[0]["invoices"].items() if ran[1]["invoices"][i] != outcome}
    assert differ == {c.invoice_id for c in found.invoices}
    for change in found.invoices:
        for side, outcome in ((change.before, ran[0]), (change.after, ran[1])):
            state, level, notice, task = outcome["invoices"][change.invoice_id]
            if side is not None:
                assert (side.state, side.level, side.notice, side.task) == (state, level, notice, task)
            else:
                assert notice is None and task is None
    held = [set(outcome["holds"]) for outcome in ran]
    assert held[0] != held[1]  # the candidate holds at 20 days
    assert {c for c, _ in held[0] ^ held[1]} <= {
        c.customer_id for c in found.customers if c.before.orders != c.after.orders
    }


def test_an_invalid_candidate_is_refused_with_file_line_and_column(
    service: Collections, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    broken = candidate_dir(tmp_path)
    path = broken / "smb-standard.yaml"
    path.write_text(path.read_text().replace("when: dunning_level == 0", "when: dunning_levl == 0"))
    with pytest.raises(StrategyError) as refused:
        candidate_set(load_directory(broken), str(broken))
    assert any(str(p).startswith(f"{path}:") and "dunning_levl" in str(p) for p in refused.value.problems)
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(STRATEGIES))
    assert main(["strategies", "diff", str(broken)]) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "dunning_levl" in x)
    file, row, col, _ = line.split(":", 3)
    assert (file, int(row) > 0, int(col) > 0) == (str(path), True, True)


def test_the_command_prints_every_change_as_json(
    service: Collections, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    portfolio(service)
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(STRATEGIES))
    candidate = candidate_dir(tmp_path)
    assert main(["strategies", "diff", str(candidate), "--as-of", TODAY.isoformat(), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["invoices_changed"] == len(out["invoices"]) > 0
    assert {"before", "after", "invoice_id", "segment"} <= set(out["invoices"][0])
    assert main(["strategies", "diff", str(candidate), "--as-of", TODAY.isoformat(), "--limit", "1"]) == 0
    text = capsys.readouterr().out
    assert "would be treated differently" in text and "more (--json lists every one)" in text
