"""The payment prediction facts in the policy language: both evaluators decide on them alike, and
a decision that saw them says in its explanation that a prediction was used."""

from __future__ import annotations

from pathlib import Path

from engine.cycle.planner import rule_cause
from engine.rules.compiler import compile_strategy
from engine.rules.durable_eval import engine
from engine.rules.embedded_tests import complete_facts, decisions_both
from engine.rules.facts import FACTS, Kind
from engine.rules.loader import load_file, load_text
from engine.rules.numpy_eval import arrays_from_rows, evaluate

SMB = Path(__file__).resolve().parents[3] / "strategies" / "smb-standard.yaml"


def test_prediction_facts_are_typed_whole_numbers_of_invoice_scope() -> None:
    for name in ("p_late", "predicted_days_late", "days_to_expected_payment"):
        assert FACTS[name].kind is Kind.INT and FACTS[name].scope.value == "invoice"


def test_a_likely_late_invoice_is_reminded_early_and_the_explanation_names_the_prediction() -> None:
    compiled = compile_strategy(load_file(SMB))
    test = next(t for t in compiled.strategy.tests if t.name == "likely late, a week before the due date")
    by_numpy, by_durable = decisions_both(compiled, complete_facts(compiled, test), engine())
    assert [d.key for d in by_numpy] == [d.key for d in by_durable]
    (decision,) = by_durable
    assert decision.rule_id == "early-reminder-likely-late"
    assert decision.as_dict()["facts"]["p_late"] == 70
    assert decision.as_dict()["prediction"] == "payment prediction used: p_late=70"
    assert rule_cause(decision)["prediction"] == "payment prediction used: p_late=70"
    assert decision.explain().endswith("The payment prediction used: p_late=70")


def test_a_rule_that_does_not_use_a_prediction_has_no_prediction_in_its_explanation() -> None:
    compiled = compile_strategy(load_file(SMB))
    given = next(t for t in compiled.strategy.tests if t.expect == ("first-notice",))
    _, by_durable = decisions_both(compiled, complete_facts(compiled, given), engine())
    assert by_durable[0].rule_id == "first-notice" and "p_late" in by_durable[0].facts  # seen, not used
    assert "prediction" not in by_durable[0].as_dict() and "prediction" not in rule_cause(by_durable[0])


def test_comparing_p_late_with_a_decimal_is_a_type_error_at_its_line() -> None:
    text = SMB.read_text().replace("p_late >= 70", 'p_late >= "high"')
    try:
        load_text(text, "smb.yaml")
    except Exception as exc:  # the loader raises with every problem and its location
        assert "p_late" in str(exc) and "smb.yaml" in str(exc)
    else:
        raise AssertionError("a text compared with p_late must be refused")


def test_the_vectorised_evaluator_names_the_prediction_too() -> None:
    compiled = compile_strategy(load_file(SMB))
    test = next(t for t in compiled.strategy.tests if t.name == "likely late, a week before the due date")
    facts = complete_facts(compiled, test)
    decisions = evaluate(compiled, arrays_from_rows([facts], compiled.facts("invoice")), "invoice").decisions(0)
    assert [d.prediction for d in decisions] == ["payment prediction used: p_late=70"]
