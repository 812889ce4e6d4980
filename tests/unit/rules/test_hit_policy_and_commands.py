"""The hit policy, explanations, the durable-rules safeguards and `o2c strategies test`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rules_helpers import compiled, strategy_text, write

from engine.rules.checks import test as run_test_command
from engine.rules.compiler import CompiledStrategy
from engine.rules.durable_eval import engine
from engine.rules.embedded_tests import complete_facts
from engine.rules.errors import EvaluationError
from engine.rules.numpy_eval import arrays_from_rows, evaluate
from engine.rules.strategy import Expectation
from states.money import Money

SAMPLES = Path(__file__).resolve().parents[3] / "strategies"
LADDER = """
- {id: pre-due, when: days_to_due == 5, then: [remind: {channel: email, template: pre}]}
- {id: escalate, when: dunning_level >= 2 and days_past_due >= 30, then: [escalate: {to: agency}]}
- {id: any-notice, when: dunning_level == 0 and days_past_due >= 0, then: [dun: {channel: email, template: d}]}
- {id: later-notice, when: days_past_due >= 10, then: [dun: {channel: letter, template: d2}]}
- {id: task, track: follow-up, when: account.broken_promises >= 1, then: [create_task: {queue: q}]}
- {id: hold, when: account.max_days_past_due >= 15, then: [credit_hold: {reason: overdue}]}
"""


def facts(c: CompiledStrategy, **given: Any) -> dict[str, Any]:
    return complete_facts(c, Expectation("t", given, None, (), None, c.strategy.loc))


def both(c: CompiledStrategy, row: dict[str, Any], scope: str = "invoice") -> list[str]:
    by_numpy = evaluate(c, arrays_from_rows([row], c.facts(scope)), scope).decisions(0)
    by_durable = engine().evaluate(c, row, scope)
    assert [d.key for d in by_numpy] == [d.key for d in by_durable]
    return [d.rule_id for d in by_durable]


def test_the_first_matching_rule_of_a_track_wins_and_other_tracks_decide_separately() -> None:
    c = compiled(LADDER)
    assert both(c, facts(c, days_past_due=12, dunning_level=1, **{"account.broken_promises": 1})) == [
        "later-notice",
        "task",
    ]


def test_account_rules_are_decided_separately_on_customer_facts() -> None:
    c = compiled(LADDER)
    assert both(c, facts(c, days_past_due=20, dunning_level=1), "account") == ["hold"]


def test_a_dun_targets_the_next_level_and_is_skipped_at_the_maximum() -> None:
    c = compiled(LADDER)
    [decision] = engine().evaluate(c, facts(c, days_past_due=12, dunning_level=2))
    assert decision.rule_id == "later-notice"
    assert decision.orders[0].target_level == 3 and decision.orders[0].trigger == "dun"
    assert both(c, facts(c, days_past_due=12, dunning_level=3)) == []


def test_no_notice_during_grace_but_reminders_before_the_due_date() -> None:
    c = compiled(LADDER)
    assert both(c, facts(c, days_past_due=2)) == []
    assert both(c, facts(c, days_past_due=3)) == ["any-notice"]
    assert both(c, facts(c, days_to_due=5)) == ["pre-due"]


def test_amounts_below_the_minimum_of_their_currency_get_no_notice() -> None:
    c = compiled(LADDER)
    assert both(c, facts(c, days_past_due=5, open_amount=4999)) == []
    assert both(c, facts(c, days_past_due=5, open_amount=5000)) == ["any-notice"]
    assert both(c, facts(c, days_past_due=5, open_amount=10**9, currency="GBP")) == []


def test_the_contact_cap_holds_notices_back() -> None:
    c = compiled(LADDER)
    assert both(c, facts(c, days_past_due=5, recent_notices=2)) == []


def test_disputed_promised_and_final_invoices_get_no_notice() -> None:
    c = compiled(LADDER)
    for state in ("disputed", "promised", "paid", "cancelled", "written_off"):
        row = facts(c, days_past_due=40, dunning_level=2, state=state)
        assert both(c, row) == [], state


def test_every_decision_explains_strategy_version_hash_rule_and_facts() -> None:
    c = compiled(LADDER)
    [decision] = engine().evaluate(c, facts(c, days_past_due=40, dunning_level=2))
    shown = decision.as_dict()
    assert (shown["strategy"], shown["version"], shown["content_hash"], shown["rule"]) == (
        "sample", 1, c.content_hash, "escalate",
    )  # fmt: skip
    assert shown["facts"]["days_past_due"] == 40 and shown["facts"]["open_amount"] == "1000.00 EUR"
    assert shown["actions"] == [
        {"kind": "escalate", "params": {"to": "agency"}, "machine": "invoice", "trigger": "escalate"}
    ]
    assert "rule 'escalate' fired" in decision.explain()


def test_the_durable_path_refuses_missing_mistyped_or_unknown_facts() -> None:
    c = compiled(LADDER)
    good = facts(c, days_past_due=5)
    for bad, message in [
        ({k: v for k, v in good.items() if k != "state"}, "missing fact 'state'"),
        (dict(good, days_past_due="5"), "must be a whole number"),
        (dict(good, days_past_due=True), "must be a whole number"),
        (dict(good, state="lost"), "unknown value 'lost'"),
        (dict(good, open_amount=Money(100, "USD")), "is in USD, the evaluation in EUR"),
    ]:
        with pytest.raises(EvaluationError, match=message):
            engine().evaluate(c, bad)


def test_the_numpy_path_refuses_what_the_durable_path_refuses() -> None:
    c = compiled(LADDER)
    arrays = arrays_from_rows([facts(c, days_past_due=5)], c.facts("invoice"))
    with pytest.raises(EvaluationError, match="unknown value 'lost'"):
        evaluate(c, dict(arrays, state=np.array(["lost"])))
    with pytest.raises(EvaluationError, match="integer array"):
        evaluate(c, dict(arrays, open_amount=np.array([12.5])))


def test_the_same_facts_can_be_evaluated_again_and_again() -> None:
    c = compiled(LADDER)
    row = facts(c, days_past_due=5)
    assert [both(c, row) for _ in range(3)] == [["any-notice"]] * 3


def test_an_error_swallowed_inside_durable_rules_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    c = compiled(LADDER)
    durable = engine()
    durable.register(c)

    def explode(action: str, event_id: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(durable._host, "_record", explode)
    with pytest.raises(EvaluationError, match="failed inside durable-rules"):
        durable.evaluate(c, facts(c, days_past_due=5))


def test_strategies_test_passes_on_the_samples_and_prints_coverage() -> None:
    out = io.StringIO()
    assert run_test_command(SAMPLES, out) == 0
    assert "covered   first-notice: hit by" in out.getvalue()
    assert out.getvalue().rstrip().endswith("0 failure(s)")


def test_strategies_test_fails_when_a_rule_is_hit_by_no_test(tmp_path: Path) -> None:
    text = strategy_text(LADDER, tests="- {given: {days_past_due: 3}, expect: [any-notice]}")
    write(tmp_path, "s.yaml", text)
    out = io.StringIO()
    assert run_test_command(tmp_path, out) == 1
    assert "UNCOVERED pre-due: hit by 0 test(s)" in out.getvalue()
    assert f"{tmp_path}/s.yaml:10:5: rule 'pre-due' is hit by no test" in out.getvalue()


def test_strategies_test_fails_when_a_test_expects_another_rule(tmp_path: Path) -> None:
    text = strategy_text(LADDER, tests="- {given: {days_past_due: 3}, expect: [later-notice]}")
    write(tmp_path, "s.yaml", text)
    out = io.StringIO()
    assert run_test_command(tmp_path, out) == 1
    assert "expected ['later-notice'], got ['any-notice']" in out.getvalue()
