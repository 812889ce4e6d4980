"""The settings model: every `O2C_*` variable typed in one place, a bad value stops the process at
start naming the variable, unknown names are warned about, and the documented table matches."""

from __future__ import annotations

import logging
import re
from datetime import time
from pathlib import Path

import pytest

from api.cli import main
from engine import config
from engine.config import Settings, current, load_settings, names
from states.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]


def test_unset_or_empty_variables_give_the_documented_defaults() -> None:
    s = load_settings({"O2C_PORT": "", "O2C_TICK_SECONDS": "  ", "O2C_GRAPHIQL": ""})
    assert (s.port, s.tick_seconds, s.graphiql, s.cycle_at) == (8000, 5.0, True, time(6, 0))
    assert (s.database_url, s.source, s.risk_thresholds, s.dispatch_lease) == (
        "sqlite:///data/o2c.sqlite",
        "urn:o2c-engine",
        (25, 50, 75),
        None,
    )


def test_values_are_read_as_their_fields_types() -> None:
    s = load_settings(
        {
            "O2C_PORT": "9000",
            "O2C_EVENT_POLL_SECONDS": "0.25",
            "O2C_CYCLE_AT": "07:30",
            "O2C_GRAPHIQL": "0",
            "O2C_INTROSPECTION": " off ",
            "O2C_SCHEDULER": "yes",
            "O2C_CORS_ORIGINS": "https://a.example, https://b.example,",
            "O2C_RISK_THRESHOLDS": "10, 20, 90",
            "O2C_EVENT_SOURCE": "urn:test",
            "O2C_LOG_FORMAT": "JSON",
            "O2C_HEARTBEAT_FILE": "/tmp/alive",
        }
    )
    assert (s.port, s.event_poll_seconds, s.cycle_at) == (9000, 0.25, time(7, 30))
    assert (s.graphiql, s.introspection, s.scheduler) == (False, False, True)
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert (s.risk_thresholds, s.source, s.log_format, s.heartbeat_file) == (
        (10, 20, 90),
        "urn:test",
        "json",
        Path("/tmp/alive"),
    )


@pytest.mark.parametrize(
    ("name", "raw", "why"),
    [
        ("O2C_PORT", "abc", "not an integer"),
        ("O2C_THREADS", "0", "a whole number, at least 1"),
        ("O2C_CYCLE_PARTITIONS", "-2", "a whole number, at least 1"),
        ("O2C_EVENT_RETENTION_DAYS", "1.5", "not an integer"),
        ("O2C_TICK_SECONDS", "soon", "not a number"),
        ("O2C_DISPATCH_IDLE", "0", "a number above 0"),
        ("O2C_PAYMENT_FUTURE_DAYS", "-1", "a whole number, at least 0"),
        ("O2C_WEBHOOK_RETRY_SCALE", "0", "a number above 0"),
        ("O2C_SMTP_URL", "mail.example:25", "smtp://, smtps:// or file:DIR"),
        ("O2C_CYCLE_AT", "25:00", "not a time of day"),
        ("O2C_GRAPHIQL", "maybe", "on or off"),
        ("O2C_TIMEZONE", "Mars/Base", "not an IANA time zone"),
        ("O2C_LOG_FORMAT", "xml", "one of 'text' or 'json'"),
        ("O2C_OTEL_TRACES", "jaeger", "one of 'console' or 'otlp'"),
        ("O2C_RISK_THRESHOLDS", "50,25,75", "three increasing integers within 1..100"),
        ("O2C_RISK_THRESHOLDS", "a,b,c", "write three integers like 25,50,75"),
        ("O2C_DISPATCH_FAULT", "explode", "one of 'exit-after-send' or 'hang-after-send'"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, raw: str, why: str) -> None:
    with pytest.raises(ValidationFailed, match=re.escape(f"{name}={raw!r}: {why}")):
        load_settings({name: raw})


def test_every_bad_value_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        load_settings({"O2C_PORT": "abc", "O2C_LEASE_SECONDS": "0"})
    assert "O2C_PORT='abc': not an integer" in caught.value.message
    assert "O2C_LEASE_SECONDS='0': a number above 0" in caught.value.message


def test_an_unknown_name_is_warned_about_once_with_the_closest_known_one(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "_warned", set())
    env = {"O2C_PROT": "9000", "O2C_ZZZ_UNRELATED": "1", "O2C_TEST_PG_URL": "x", "O2C_BENCH_PG": "1", "PATH": "/bin"}
    with caplog.at_level(logging.WARNING, logger="engine.config"):
        s = load_settings(env)
        load_settings(env)
    assert s.port == 8000
    warned = sorted(r.getMessage() for r in caplog.records)
    # the test suite's and the benchmarks' own variables are not the service's
    assert warned == ["unknown setting O2C_PROT (did you mean O2C_PORT?)", "unknown setting O2C_ZZZ_UNRELATED"]


def test_building_settings_directly_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_PORT", "9001")
    assert Settings(database_url="sqlite:///x.sqlite").port == 8000
    assert Settings(source="urn:direct").source == "urn:direct"
    assert load_settings().port == 9001
    assert current().port == 9001
    monkeypatch.setenv("O2C_PORT", "9002")
    assert current().port == 9002  # read again when a variable changes


def test_settings_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        Settings().port = 1  # type: ignore[misc]


def _documented() -> set[str]:
    """The `O2C_*` names in the first column of docs/operations.md's settings table."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    found: set[str] = set()
    for line in text.splitlines():
        cells = line.split("|")
        if line.startswith("| `O2C_") and len(cells) > 2:
            found.update(re.findall(r"`(O2C_[A-Z0-9_]+)`", cells[1]))
    return found


def test_every_documented_variable_is_a_field_and_every_field_is_documented() -> None:
    documented = _documented()
    assert documented, "docs/operations.md has no settings table"
    assert sorted(documented - set(names())) == [], "documented but not in engine/config.py"
    assert sorted(set(names()) - documented) == [], "in engine/config.py but not in docs/operations.md"


def test_no_module_reads_the_environment_itself() -> None:
    offenders = []
    for package in ("engine", "schema", "api", "states"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "engine" / "config.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"os\.environ|os\.getenv|getenv\(", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_cli_stops_before_the_command_naming_the_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", f"sqlite:///{tmp_path}/never.sqlite")
    monkeypatch.setenv("O2C_PORT", "abc")
    assert main(["db", "upgrade"]) == 2
    assert "o2c: VALIDATION_FAILED: O2C_PORT='abc': not an integer" in capsys.readouterr().err
    assert not (tmp_path / "never.sqlite").exists()
