"""deploy/kubernetes cannot rot unnoticed: no cluster here, so the manifests are read — the kinds and
topology (API replicas, workers, a migrate job), probes on /healthz and /readyz at the served port,
commands the real CLI accepts, one image, and settings the service loads and documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.cli import build_parser
from engine.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
OPERATIONS = ROOT / "docs" / "operations.md"


def _documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return docs


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == kind}


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _env(container: dict[str, Any]) -> dict[str, str]:
    """What the container sees: the ConfigMap and Secret it reads, then its own `env`."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= _by_kind("ConfigMap")[source["configMapRef"]["name"]]["data"]
        if "secretRef" in source:
            env |= _by_kind("Secret")[source["secretRef"]["name"]]["stringData"]
    return env | {e["name"]: str(e["value"]) for e in container.get("env", [])}


def test_every_file_the_kustomization_lists_exists_and_every_document_is_a_kubernetes_object() -> None:
    docs = _documents()
    assert {d["kind"] for d in docs} == {"ConfigMap", "Secret", "Job", "Deployment", "Service"}
    assert all(d["apiVersion"] and d["metadata"]["name"] for d in docs)


def test_the_topology_has_api_replicas_workers_and_a_migrate_job() -> None:
    deployments = _by_kind("Deployment")
    assert deployments["o2c-api"]["spec"]["replicas"] >= 2
    assert deployments["o2c-worker"]["spec"]["replicas"] >= 2
    assert _container(_by_kind("Job")["o2c-migrate"])["command"] == ["o2c", "db", "upgrade"]
    for deployment in deployments.values():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("workload", ["o2c-api", "o2c-worker", "o2c-migrate"])
def test_each_command_is_one_the_cli_accepts_and_its_settings_load(workload: str) -> None:
    objects = _by_kind("Deployment") | _by_kind("Job")
    container = _container(objects[workload])
    assert container["image"] == "o2c-engine"  # one image for every process (the kustomization sets its tag)
    assert container["command"][0] == "o2c"
    build_parser().parse_args(container["command"][1:])
    settings = load_settings(_env(container))
    assert settings.database_url.startswith("postgresql://")
    documented = set(re.findall(r"^\|\s*`(O2C_[A-Z0-9_]+)`", OPERATIONS.read_text(), flags=re.MULTILINE))
    assert set(_env(container)) <= documented


def test_api_replicas_run_no_background_work_and_probe_health_and_readiness_on_the_served_port() -> None:
    api = _by_kind("Deployment")["o2c-api"]
    container = _container(api)
    assert "--no-scheduler" in container["command"]
    (port,) = container["ports"]
    assert str(port["containerPort"]) == _env(container)["O2C_PORT"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {container["readinessProbe"]["httpGet"]["port"], container["livenessProbe"]["httpGet"]["port"]} == {
        port["name"]
    }
    service = _by_kind("Service")["o2c-api"]
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]


def test_workers_are_checked_by_their_heartbeat_and_get_time_to_finish_a_batch() -> None:
    worker = _by_kind("Deployment")["o2c-worker"]
    container = _container(worker)
    heartbeat = _env(container)["O2C_HEARTBEAT_FILE"]
    assert heartbeat in " ".join(container["livenessProbe"]["exec"]["command"])
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
