"""The kill tests' list of step boundaries is the code's: every `crash.reached(...)` names one of
`engine.crash.BOUNDARIES`, and every one of them is reached somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import crash
from engine.config import load_settings
from states.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"""crash\.reached\(\s*["']([^"']+)["']\s*\)""")


def _reached_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for package in ("engine", "api"):
        for path in (ROOT / package).rglob("*.py"):
            for name in CALL.findall(path.read_text()):
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_boundary_the_code_reaches_is_listed_and_every_listed_one_is_reached() -> None:
    found = _reached_in_code()
    assert set(found) == set(crash.BOUNDARIES)


def test_a_crash_setting_names_a_known_boundary_and_an_occurrence_from_one() -> None:
    assert crash.parse("cycle.chunk_written:3") == ("cycle.chunk_written", 3)
    assert crash.parse("timers.tasks_woken") == ("timers.tasks_woken", 1)
    assert load_settings({"O2C_CRASH_AT": "cycle.opened"}).crash_at == "cycle.opened"
    for bad in ("cycle.chunk", "cycle.opened:0", "cycle.opened:x"):
        with pytest.raises(ValidationFailed, match="O2C_CRASH_AT"):
            load_settings({"O2C_CRASH_AT": bad})


def test_without_the_setting_reaching_a_boundary_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("O2C_CRASH_AT", raising=False)
    for name in crash.BOUNDARIES:
        crash.reached(name)  # the test process is still alive


def test_with_the_setting_another_boundary_or_an_earlier_occurrence_does_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("O2C_CRASH_AT", "timers.promise_judged:1000")
    crash.reached("timers.promise_judged")
    crash.reached("cycle.opened")
