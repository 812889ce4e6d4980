"""deploy/prometheus/alerts.yml and deploy/grafana/o2c-engine.json read only metrics a real `o2c serve`
exports on /metrics (scraped here), and cover what operators must be told about."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from server_process import Server, running_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "o2c-engine.json"
# What Prometheus itself adds (not the service's to export).
SYNTHETIC = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions, keywords,
    label matchers, label lists, durations or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("(") or match.group() in PROMQL_WORDS:
            continue
        if re.fullmatch(r"\d+(\.\d+)?(e-?\d+)?", match.group()) or text[max(match.start() - 1, 0)].isdigit():
            continue
        names.add(match.group())
    return names


def exported(metrics_text: str) -> set[str]:
    names = set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = Path(tmp_path_factory.mktemp("monitoring")) / "o2c.sqlite"
    with running_server(f"sqlite:///{path}") as running:
        yield running


@pytest.fixture(scope="module")
def metrics(server: Server) -> set[str]:
    server.graphql("{ __typename }")
    return exported(httpx.get(f"{server.url}/metrics").text)


def _alerts() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERTS.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_metrics_include_the_conventional_process_and_python_collectors(metrics: set[str]) -> None:
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds"} <= metrics
    assert {"python_info", "python_gc_collections_total"} <= metrics
    assert {"o2c_outbox_position", "o2c_webhook_fanout_position", "o2c_graphql_operations_total"} <= metrics


def test_the_name_reader_finds_metrics_and_skips_functions_labels_and_durations() -> None:
    expr = 'sum by (le) (rate(o2c_x_bucket{outcome="error"}[5m])) / clamp_min(o2c_y, 1e-9) > 32 * 3600'
    assert metric_names(expr) == {"o2c_x_bucket", "o2c_y"}


def test_every_alert_reads_exported_metrics_and_says_what_to_do(metrics: set[str]) -> None:
    rules = _alerts()
    names = {rule["alert"] for rule in rules}
    assert {"O2CCycleNotDone", "O2CWebhookDeliveriesDead", "O2CWebhookLag", "O2CGraphQLErrorRate"} <= names
    for rule in rules:
        unknown = metric_names(rule["expr"]) - metrics - SYNTHETIC
        assert not unknown, (rule["alert"], unknown)
        assert metric_names(rule["expr"]), rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_dashboard_panel_queries_exported_metrics(metrics: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert len(panels) >= 10 and len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            unknown = metric_names(target["expr"]) - metrics - SYNTHETIC
            assert not unknown, (panel["title"], unknown)


def test_promtool_accepts_the_rules_when_it_is_installed() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (optional: the checks above do not need it)")
    run = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
