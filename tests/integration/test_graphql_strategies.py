"""`strategies`, `reloadStrategies` and `validateStrategy` through the real schema, on SQLite and
PostgreSQL: every read role sees the set in force with its source; a reload with a broken file
keeps the old set and returns FILE:LINE:COL errors; validation never installs anything and
refuses `__import__` with a line and column."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from cycle_support import STRATEGIES
from graphql_harness import ROLES, SCHEMA, codes, data
from strawberry.types import ExecutionResult

from engine.keys import Principal
from engine.rules.registry import Registry
from engine.services.context import Context
from schema.context import make_context

STRATEGIES_QUERY = """{ strategies { name version contentHash file loadedAt
  appliesTo { segments risks } settings { graceDays maxDunningLevel minAmount { amount currency } }
  rules { id description when track actions { kind params { name value } text } } source } }"""
RELOAD = """mutation { reloadStrategies { ok errors { file line column message text }
  inForce { name version contentHash } } }"""
VALIDATE = """mutation($source: String!, $file: String) { validateStrategy(source: $source, file: $file) {
  ok errors { file line column message text } } }"""


def run_with(
    ctx: Context, registry: Registry | None, query: str, variables: dict[str, Any] | None = None, role: str = "admin"
) -> ExecutionResult:
    principal = Principal(1, "testkey", role, f"{role} tester")
    context = make_context(ctx, principal, registry=registry)
    return asyncio.run(SCHEMA.execute(query, variable_values=variables, context_value=context))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the shipped strategies: tests edit it freely."""
    target = tmp_path / "strategies"
    shutil.copytree(STRATEGIES, target)
    return target


@pytest.fixture
def registry(folder: Path) -> Registry:
    registry = Registry(folder)
    assert registry.reload().ok
    return registry


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_set_in_force_with_rules_and_source(ctx: Context, registry: Registry, role: str) -> None:
    found = data(run_with(ctx, registry, STRATEGIES_QUERY, role=role))["strategies"]
    in_force = registry.current
    assert [(s["name"], s["version"], s["contentHash"]) for s in found] == [
        (c.name, c.version, c.content_hash) for c in in_force.strategies
    ]
    smb = next(s for s in found if s["name"] == "smb-standard")
    assert smb["appliesTo"]["segments"] == ["smb"]
    assert hashlib.sha256(smb["source"].encode()).hexdigest() == smb["contentHash"]
    first = next(r for r in smb["rules"] if r["id"] == "first-notice")
    assert first["when"] and first["track"] == "dunning"
    assert first["actions"][0]["kind"] == "dun"
    assert {p["name"] for p in first["actions"][0]["params"]} == {"channel", "template"}
    assert {m["currency"] for m in smb["settings"]["minAmount"]} >= {"EUR"}


def test_source_is_null_once_the_file_on_disk_no_longer_is_the_one_in_force(
    ctx: Context, registry: Registry, folder: Path
) -> None:
    path = folder / "smb-standard.yaml"
    path.write_text(path.read_text() + "\n# edited, not reloaded\n")
    (fresh := Registry(folder)).reload()  # a registry that never kept the old text
    path.write_text(path.read_text() + "# edited again\n")
    found = data(run_with(ctx, fresh, "{ strategies { name source } }"))["strategies"]
    assert next(s for s in found if s["name"] == "smb-standard")["source"] is None


def test_a_reload_with_a_broken_file_keeps_the_old_set_and_returns_located_errors(
    ctx: Context, registry: Registry, folder: Path
) -> None:
    before = [(c.name, c.content_hash) for c in registry.current.strategies]
    path = folder / "smb-standard.yaml"
    good = path.read_text()
    path.write_text(good.replace("when: dunning_level == 0", "when: dunning_levl == 0", 1))

    result = data(run_with(ctx, registry, RELOAD, role="policy"))["reloadStrategies"]

    assert result["ok"] is False
    assert result["errors"], result
    error = result["errors"][0]
    assert error["file"].endswith("smb-standard.yaml") and error["line"] > 1 and error["column"] > 1
    assert error["text"] == f"{error['file']}:{error['line']}:{error['column']}: {error['message']}"
    assert "dunning_levl" in error["message"] and "did you mean 'dunning_level'" in error["message"]
    assert [(s["name"], s["contentHash"]) for s in result["inForce"]] == before
    assert [(c.name, c.content_hash) for c in registry.current.strategies] == before

    path.write_text(good.replace("version: 1", "version: 2", 1) if "version: 1" in good else good + "\n")
    result = data(run_with(ctx, registry, RELOAD, role="admin"))["reloadStrategies"]
    assert result["ok"] is True and result["errors"] == []
    smb = next(s for s in result["inForce"] if s["name"] == "smb-standard")
    assert smb["contentHash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert registry.current.route("smb", "low").content_hash == smb["contentHash"]


def test_validate_refuses_import_with_its_line_and_column_and_installs_nothing(
    ctx: Context, registry: Registry, folder: Path
) -> None:
    text = (folder / "smb-standard.yaml").read_text()
    lines = text.splitlines()
    line = next(n for n, t in enumerate(lines, 1) if "when: dunning_level == 0" in t)
    column = lines[line - 1].index("dunning_level") + 1
    bad = text.replace("when: dunning_level == 0", 'when: __import__("os").system("true") == 0', 1)
    before = registry.current

    result = data(run_with(ctx, registry, VALIDATE, {"source": bad, "file": "smb-standard.yaml"}, role="policy"))

    found = result["validateStrategy"]
    assert found["ok"] is False
    first = found["errors"][0]
    assert (first["file"], first["line"], first["column"]) == ("smb-standard.yaml", line, column)
    assert "__import__" in first["message"]
    assert registry.current is before


def test_validate_accepts_a_valid_file_in_place_and_names_routing_overlaps_of_a_new_one(
    ctx: Context, registry: Registry, folder: Path
) -> None:
    text = (folder / "smb-standard.yaml").read_text()
    same = data(run_with(ctx, registry, VALIDATE, {"source": text, "file": "smb-standard.yaml"}))
    assert same["validateStrategy"] == {"ok": True, "errors": []}

    copy = text.replace("strategy: smb-standard", "strategy: smb-copy", 1)
    found = data(run_with(ctx, registry, VALIDATE, {"source": copy, "file": "smb-copy.yaml"}))["validateStrategy"]
    assert found["ok"] is False
    assert any("routing overlap: smb × low" in e["message"] for e in found["errors"]), found


def test_validate_under_a_new_file_name_does_not_find_the_file_overlapping_itself(
    ctx: Context, registry: Registry, folder: Path
) -> None:
    text = (folder / "smb-standard.yaml").read_text()
    found = data(run_with(ctx, registry, VALIDATE, {"source": text, "file": "smb-standard-renamed.yaml"}))
    assert found["validateStrategy"] == {"ok": True, "errors": []}


def test_validate_runs_the_embedded_tests_and_reports_failures_and_untested_rules_with_lines(
    ctx: Context, registry: Registry, folder: Path
) -> None:
    text = (folder / "smb-standard.yaml").read_text()
    # the first test now expects another rule; the test of third-notice is gone (the rule is untested)
    wrong = text.replace("    expect: [pre-due-reminder]", "    expect: [first-notice]", 1).replace(
        "  - given: {days_past_due: 23, dunning_level: 2, days_since_last_notice: 10}\n    expect: [third-notice]\n",
        "",
        1,
    )
    lines = wrong.splitlines()
    test_line = next(n for n, t in enumerate(lines, 1) if "given: {days_to_due: 3" in t)
    rule_line = next(n for n, t in enumerate(lines, 1) if "id: third-notice" in t)
    found = data(run_with(ctx, registry, VALIDATE, {"source": wrong, "file": "smb-standard.yaml"}))["validateStrategy"]
    assert found["ok"] is False
    by_message = {e["message"]: e["line"] for e in found["errors"]}
    assert any(
        "expected ['first-notice'], got ['pre-due-reminder']" in m and ln == test_line for m, ln in by_message.items()
    )
    assert by_message.get("rule 'third-notice' is hit by no test") == rule_line


def test_validate_without_a_set_in_force_judges_the_file_alone(ctx: Context) -> None:
    text = (STRATEGIES / "smb-standard.yaml").read_text()
    found = data(run_with(ctx, None, VALIDATE, {"source": text}))["validateStrategy"]
    assert found == {"ok": True, "errors": []}
    broken = data(run_with(ctx, None, VALIDATE, {"source": "strategy: ["}))["validateStrategy"]
    assert broken["ok"] is False and broken["errors"][0]["text"].startswith("source.yaml:1:")


def test_an_oversized_source_is_a_validation_error(ctx: Context) -> None:
    result = run_with(ctx, None, VALIDATE, {"source": "#" * (256 * 1024 + 1)})
    assert codes(result) == ["VALIDATION_FAILED"]


@pytest.mark.parametrize("role", ["viewer", "collector", "integrator"])
def test_only_policy_and_admin_may_reload_or_validate(ctx: Context, registry: Registry, role: str) -> None:
    assert codes(run_with(ctx, registry, RELOAD, role=role)) == ["FORBIDDEN"]
    assert codes(run_with(ctx, registry, VALIDATE, {"source": "x"}, role=role)) == ["FORBIDDEN"]
