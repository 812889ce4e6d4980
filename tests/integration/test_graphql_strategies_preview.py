"""`previewStrategies` through the real schema on SQLite and PostgreSQL: the candidate files
replace those of the same name in force, the answer is the engine's diff (the same one the CLI
prints), nothing is written or put in force, an invalid file comes back with FILE:LINE:COL, and
only roles that manage strategies may ask."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cycle_support import STRATEGIES, clear_cycle_tables, counts
from graphql_harness import codes, data
from test_graphql_strategies import run_with
from test_lab_diff import TODAY, candidate_dir, portfolio

from engine.lab.diff import candidate_set, diff_strategies
from engine.rules.directory import load_directory
from engine.rules.registry import Registry
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store

PREVIEW = """query($files: [StrategyFileInput!]!, $asOf: Date, $first: Int) {
  previewStrategies(files: $files, asOf: $asOf, first: $first) {
    ok errors { file line column text } businessDate invoicesEvaluated invoicesChanged customersChanged
    byRule { name before after change } bySegment { segment invoicesChanged customersChanged }
    byChannel { channel noticesBefore noticesAfter messagesBefore messagesAfter }
    totals { name before after change }
    contact { customersWithMoreMessages atContactCapBefore atContactCapAfter }
    invoices { invoiceId customerId segment before { rules state noticeChannel } after { rules state noticeChannel } }
    customers { customerId before { messages contactCap orders } after { messages contactCap orders } } } }"""


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    folder = tmp_path / "in-force"
    shutil.copytree(STRATEGIES, folder)
    registry = Registry(folder)
    assert registry.reload().ok
    return registry


def test_a_preview_answers_the_engine_diff_and_writes_nothing(
    ctx: Context, service: Collections, store: Store, registry: Registry, tmp_path: Path
) -> None:
    portfolio(service)
    candidate = candidate_dir(tmp_path)
    files = [{"name": "smb-standard.yaml", "source": (candidate / "smb-standard.yaml").read_text()}]
    in_force = registry.current
    written = counts(store)
    found = data(run_with(ctx, registry, PREVIEW, {"files": files, "asOf": TODAY.isoformat(), "first": 2}))
    preview = found["previewStrategies"]
    assert counts(store) == written and registry.current is in_force
    expected = diff_strategies(store, in_force, candidate_set(load_directory(candidate), "c"), TODAY)
    assert preview["ok"] and preview["errors"] == []
    assert preview["invoicesChanged"] == len(expected.invoices) > 2
    assert len(preview["invoices"]) == 2
    assert [int(i["invoiceId"]) for i in preview["invoices"]] == [c.invoice_id for c in expected.invoices[:2]]
    assert {r["name"]: r["change"] for r in preview["byRule"]} == {k: v["change"] for k, v in expected.by_rule.items()}
    assert preview["contact"]["customersWithMoreMessages"] == expected.contact["customers_with_more_messages"]
    assert {c["channel"] for c in preview["byChannel"]} == {"email", "sms"}


def test_an_invalid_candidate_comes_back_with_file_line_and_column(
    ctx: Context, service: Collections, registry: Registry
) -> None:
    broken = (
        "strategy: smb-standard\nversion: 2\napplies_to: {segment: [smb], risk: [low]}\nsettings: {grace_days: x}\n"
    )
    found = data(run_with(ctx, registry, PREVIEW, {"files": [{"name": "smb-standard.yaml", "source": broken}]}))
    preview = found["previewStrategies"]
    assert preview["ok"] is False and preview["invoicesChanged"] == 0
    assert preview["errors"] and all(e["file"] and e["line"] >= 1 and e["column"] >= 1 for e in preview["errors"])
    assert any(e["file"] == "smb-standard.yaml" and e["line"] == 4 for e in preview["errors"])


def test_only_roles_that_manage_strategies_may_preview(ctx: Context, registry: Registry) -> None:
    files = [{"name": "x.yaml", "source": "strategy: x"}]
    assert codes(run_with(ctx, registry, PREVIEW, {"files": files}, role="collector")) == ["FORBIDDEN"]
    assert codes(run_with(ctx, registry, PREVIEW, {"files": []})) == ["VALIDATION_FAILED"]
