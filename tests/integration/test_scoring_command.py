"""`o2c risk score`: every customer, then one with its explanation."""

from __future__ import annotations

import argparse
import json

import pytest

from api.commands import risk
from engine.demo import load_demo
from engine.service import Collections


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    risk.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_risk_score_reports_the_classes_and_a_second_run_changes_nothing(
    service: Collections, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    load_demo(service, customers=60, invoices=600, seed=3)  # scored as of the test's date
    assert _run(["risk", "score"]) == 0  # as of the wall clock's date
    assert _run(["risk", "score"]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()[-2:]
    assert first.startswith("scored 60 customers as of ")
    assert second.startswith("scored 60 customers as of ") and second.endswith("; 0 changed, 0 changed class")
    assert _run(["risk", "score", "--customer", "1"]) == 0
    explanation = json.loads(capsys.readouterr().out)
    assert set(explanation) == {"score", "class", "top", "factors"} and 0 <= explanation["score"] <= 100
