"""docker-compose.yml and the Dockerfile cannot rot unnoticed: there is no Docker engine here, so
the topology is checked by reading the files — services, replicas, health checks, commands the
real CLI accepts, and every `O2C_*` variable documented in docs/operations.md and read by the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.cli import build_parser
from api.commands.serve import background_for
from engine.config import load_settings, names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
DEFAULT = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _env(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment with `${VAR:-default}` replaced by its default."""
    raw = service.get("environment") or {}
    return {str(k): DEFAULT.sub(lambda m: m.group(2) or "", str(v)) for k, v in raw.items()}


def _o2c_variables() -> set[str]:
    return {name for s in _services().values() for name in _env(s) if name.startswith("O2C_")}


def _one_shot(name: str) -> bool:
    """A service others wait for to *finish* (the schema upgrade), not to be healthy."""
    return any(
        (s.get("depends_on") or {}).get(name, {}).get("condition") == "service_completed_successfully"
        for s in _services().values()
        if isinstance(s.get("depends_on"), dict)
    )


def test_the_topology_has_postgres_a_migration_two_api_replicas_two_workers_and_a_webhook_receiver() -> None:
    services = _services()

    assert set(services) == {"postgres", "migrate", "api", "worker", "webhook-receiver"}
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert _one_shot("migrate") and services["migrate"]["restart"] == "no"
    assert "o2c db upgrade" in " ".join(services["migrate"]["command"])


def test_api_replicas_run_without_a_scheduler_and_workers_run_scheduler_and_dispatcher() -> None:
    services = _services()
    api, worker = services["api"], services["worker"]

    assert api["command"][:2] == ["o2c", "serve"] and "--no-scheduler" in api["command"]
    assert _env(api)["O2C_SCHEDULER"] == "0"
    assert not background_for(load_settings(_env(api)), "--no-scheduler" in api["command"]).scheduler
    assert worker["command"] == ["o2c", "worker"]  # scheduler + webhook dispatcher (no --no-dispatch)
    for name in ("api", "worker"):
        args = build_parser().parse_args(services[name]["command"][1:])  # the real CLI accepts it
        assert args.command == services[name]["command"][1]
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["migrate"]["condition"] == "service_completed_successfully"


def test_every_long_running_service_has_a_health_check_and_the_api_checks_readiness() -> None:
    services = _services()

    for name, service in services.items():
        if _one_shot(name):
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name} has no health check"
        assert not check.get("disable"), name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    heartbeat = _env(services["worker"])["O2C_HEARTBEAT_FILE"]
    assert heartbeat in " ".join(services["worker"]["healthcheck"]["test"])


def test_every_service_uses_the_same_database_and_the_api_ports_do_not_collide() -> None:
    services = _services()
    urls = {_env(s)["O2C_DATABASE_URL"] for n, s in services.items() if n in ("migrate", "api", "worker")}

    assert len(urls) == 1 and urls.pop().startswith("postgresql://")
    (ports,) = services["api"]["ports"]
    host, container = str(ports).split(":")
    low, high = (int(p) for p in host.split("-"))
    assert high - low + 1 == services["api"]["deploy"]["replicas"]  # one host port per replica
    assert container == _env(services["api"])["O2C_PORT"]


def test_the_example_webhook_receiver_exists_and_is_in_the_image() -> None:
    receiver = _services()["webhook-receiver"]
    script = receiver["command"][-1]

    assert script == "/app/examples/webhook_receiver.py"
    assert (ROOT / "examples" / "webhook_receiver.py").is_file()
    assert "COPY examples examples" in (ROOT / "Dockerfile").read_text()
    assert "standardwebhooks" in (ROOT / "examples" / "webhook_receiver.py").read_text()


@pytest.mark.parametrize("variable", sorted(_o2c_variables()))
def test_every_o2c_variable_in_compose_is_documented_and_read_by_the_code(variable: str) -> None:
    documented = re.findall(r"^\|\s*`(O2C_[A-Z0-9_]+)`", OPERATIONS.read_text(), flags=re.MULTILINE)

    assert variable in documented, f"{variable} is not in the configuration table of docs/operations.md"
    assert variable in names(), f"{variable} is not a field of the settings model (engine/config.py)"


def test_the_compose_settings_load_without_error() -> None:
    for name in ("migrate", "api", "worker"):
        settings = load_settings(_env(_services()[name]))
        assert settings.database_url.startswith("postgresql://")
        assert str(settings.strategies_dir) == "/app/strategies"


def test_the_dockerfile_is_multi_stage_and_copies_only_what_exists() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, flags=re.MULTILINE)

    assert stages == ["build", "runtime"]
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.MULTILINE):
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
    assert "build-essential" not in text.split("AS runtime", 1)[1]  # no compiler at run time


def test_the_image_installs_the_locked_dependencies_and_then_the_project_without_resolving() -> None:
    text = (ROOT / "Dockerfile").read_text()
    build, runtime = text.split("AS runtime", 1)

    assert "--require-hashes --wheel-dir /wheels -r requirements.lock" in build
    assert "--no-deps --wheel-dir /wheels ." in build  # the project adds no unlocked dependency
    assert "--no-index --no-deps /wheels/*.whl" in runtime  # nothing is fetched at install time
    for service in ("migrate", "api", "worker"):
        assert _services()[service]["image"] == "o2c-engine:local"  # every process runs the locked image
