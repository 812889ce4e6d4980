"""A policy file holding a NUL or another control character YAML does not allow is refused at its
line and column, naming the character without printing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cashapp.policy import load_policy
from engine.policy.disputes import read_dispute_policy
from engine.rules.errors import StrategyError
from states.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]


def test_a_nul_in_the_dispute_policy_names_its_line_and_column() -> None:
    text = (ROOT / "policy" / "disputes.yaml").read_text(encoding="utf-8")
    first = text.index("\n") + 1  # the start of line 2
    with pytest.raises(StrategyError) as caught:
        read_dispute_policy(text[:first] + "ab\x00" + text[first:], "disputes.yaml")
    assert str(caught.value) == "disputes.yaml:2:3: a NUL (U+0000) character is not allowed in YAML"


def test_a_control_character_in_the_cash_application_policy_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cash-application.yaml"
    path.write_text("auto_apply_confidence: 90\nname_similarity: 9\x070\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load_policy(path)
    assert caught.value.message == f"{path}:2: the control character U+0007 is not allowed in YAML"
