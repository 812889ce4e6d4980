"""Every segment × risk pair maps to exactly one strategy; reloading swaps the whole set or nothing."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rules_helpers import strategy_text, write

from engine.rules.checks import check
from engine.rules.directory import load_directory
from engine.rules.registry import PollingWatcher, Registry

SAMPLES = Path(__file__).resolve().parents[3] / "strategies"
RULE = "- {id: a, when: dunning_level == 0, then: [dun: {channel: email, template: t}]}"


def test_the_sample_strategies_cover_every_pair_exactly_once() -> None:
    loaded = load_directory(SAMPLES)
    assert loaded.problems == ()
    pairs = [p for c in loaded.strategies for p in c.strategy.pairs]
    assert len(pairs) == len(set(pairs)) == 16


def test_a_routing_gap_names_every_missing_pair(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        strategy_text(RULE, name="a", segments="enterprise, mid_market, smb", risks="low, medium, high, critical"),
    )
    write(tmp_path, "b.yaml", strategy_text(RULE, name="b", segments="public_sector", risks="low, high"))
    messages = [str(p) for p in load_directory(tmp_path).problems]
    assert messages == [
        f"{tmp_path}:1:1: routing gap: no strategy applies to public_sector × medium, public_sector × critical"
    ]


def test_a_routing_overlap_is_reported_in_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", strategy_text(RULE, name="a"))
    write(tmp_path, "b.yaml", strategy_text(RULE, name="b", segments="smb", risks="high"))
    messages = [str(p) for p in load_directory(tmp_path).problems]
    assert messages == [
        f"{tmp_path}/a.yaml:3:1: routing overlap: smb × high is also covered by 'b' ({tmp_path}/b.yaml)",
        f"{tmp_path}/b.yaml:3:1: routing overlap: smb × high is also covered by 'a' ({tmp_path}/a.yaml)",
    ]


def test_two_files_with_one_strategy_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", strategy_text(RULE, name="same", segments="enterprise, mid_market"))
    write(tmp_path, "b.yaml", strategy_text(RULE, name="same", segments="smb, public_sector"))
    messages = [str(p) for p in load_directory(tmp_path).problems]
    assert messages == [f"{tmp_path}/b.yaml:1:1: strategy name 'same' is also used in {tmp_path}/a.yaml"]


def test_a_valid_reload_replaces_the_set_and_shows_names_versions_and_hashes(tmp_path: Path) -> None:
    write(tmp_path, "all.yaml", strategy_text(RULE, name="all", version=1))
    registry = Registry(tmp_path)
    assert registry.reload().ok
    first = registry.current
    write(tmp_path, "all.yaml", strategy_text(RULE, name="all", version=2))
    result = registry.reload()
    assert result.ok and result.in_force is registry.current is not first
    [summary] = registry.current.summary()
    assert (summary["name"], summary["version"], len(summary["content_hash"])) == ("all", 2, 64)
    assert registry.route("smb", "high").version == 2


def test_a_bad_file_leaves_the_running_set_in_force_and_returns_the_errors(tmp_path: Path) -> None:
    write(tmp_path, "all.yaml", strategy_text(RULE, name="all", version=1))
    registry = Registry(tmp_path)
    registry.reload()
    before = registry.current
    write(tmp_path, "all.yaml", strategy_text(RULE.replace("dunning_level", "dunning_levle"), name="all", version=2))
    result = registry.reload()
    assert not result.ok
    assert registry.current is before and result.in_force is before
    assert result.messages == [
        f"{tmp_path}/all.yaml:10:19: unknown fact 'dunning_levle'; did you mean 'dunning_level'?"
    ]
    assert registry.route("enterprise", "low").version == 1


def test_one_bad_file_among_good_ones_keeps_every_old_strategy(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES, tmp_path / "s")
    registry = Registry(tmp_path / "s")
    assert registry.reload().ok
    before = {c.name: c.content_hash for c in registry.current.strategies}
    (tmp_path / "s" / "smb-standard.yaml").write_text("strategy: [unclosed\n", encoding="utf-8")
    (tmp_path / "s" / "public-sector.yaml").write_text(
        (SAMPLES / "public-sector.yaml").read_text(encoding="utf-8").replace("version: 1", "version: 2"),
        encoding="utf-8",
    )
    assert not registry.reload().ok
    assert {c.name: c.content_hash for c in registry.current.strategies} == before


def test_the_watcher_reloads_when_a_file_changes(tmp_path: Path) -> None:
    write(tmp_path, "all.yaml", strategy_text(RULE, name="all", version=1))
    registry = Registry(tmp_path)
    registry.reload()
    watcher = PollingWatcher(registry)
    assert watcher.poll() is None
    write(tmp_path, "all.yaml", strategy_text(RULE, name="all", version=3) + "\n")
    result = watcher.poll()
    assert result is not None and result.ok
    assert registry.route("smb", "low").version == 3


def test_check_prints_every_error_and_exits_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", strategy_text(RULE.replace("dun:", "dunn:"), name="a", segments="smb"))
    out = io.StringIO()
    assert check(tmp_path, out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{tmp_path}/a.yaml:10:46: unknown action 'dunn'; did you mean 'dun'?"
    assert lines[-1] == "1 problem(s); nothing was loaded"


def test_check_exits_zero_on_the_samples() -> None:
    out = io.StringIO()
    assert check(SAMPLES, out) == 0
    assert out.getvalue().count("\nok ") + out.getvalue().startswith("ok ") == 6
