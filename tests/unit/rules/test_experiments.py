"""Champion/challenger in a strategy file: the `experiment` section is validated with FILE:LINE:COL,
every arm is compiled (a variant's rules replace the champion's of the same id, in place), customers
are assigned deterministically by hash(customer, experiment) in the declared shares, and both
evaluators decide every arm identically, naming the experiment and the arm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_differential import fact_rows

from engine.rules.compiler import ACCOUNT_SCOPE, INVOICE_SCOPE, CompiledStrategy, compile_strategy
from engine.rules.durable_eval import engine
from engine.rules.errors import StrategyError
from engine.rules.experiment import arm_index, arms_of, buckets
from engine.rules.loader import load_text
from engine.rules.numpy_eval import arrays_from_rows, evaluate

SMB = (Path(__file__).resolve().parents[3] / "strategies" / "smb-standard.yaml").read_text()
EXPERIMENT = """
experiment:
  name: smb-sms-first
  holdout: 10
  variants:
    - name: sms-first
      weight: 30
      rules:
        - id: first-notice
          when: dunning_level == 0
          then:
            - dun: {channel: sms, template: smb_dunning_1}
"""


def with_experiment(section: str = EXPERIMENT) -> CompiledStrategy:
    return compile_strategy(load_text(SMB + section, "smb-standard.yaml"))


def test_every_arm_is_compiled_and_a_variant_replaces_rules_in_place() -> None:
    compiled = with_experiment()
    assert [a.strategy.variant for a in compiled.arms] == ["holdout", "sms-first", "champion"]
    champion, challenger = compiled.arms[2], compiled.arms[1]
    assert [r.id for r in challenger.rules] == [r.id for r in champion.rules]
    first = challenger.strategy.rule("first-notice")
    assert first.index == champion.strategy.rule("first-notice").index
    assert dict(first.actions[0].params)["channel"] == "sms"
    assert dict(champion.strategy.rule("first-notice").actions[0].params)["channel"] == "email"
    assert len({a.label for a in compiled.arms}) == 3  # each arm its own durable-rules ruleset


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("id: first-notice", "id: no-such-rule", "must replace a champion rule"),
        ("weight: 30", "weight: 95", "leave the champion some customers"),
        ("name: sms-first", "name: champion", "reserved"),
        ("holdout: 10", "holdout: 70", "holdout"),
    ],
)
def test_a_wrong_experiment_is_refused_with_file_line_and_column(old: str, new: str, message: str) -> None:
    with pytest.raises(StrategyError) as refused:
        with_experiment(EXPERIMENT.replace(old, new))
    found = [p for p in refused.value.problems if message in p.message]
    assert found and found[0].loc.file == "smb-standard.yaml", refused.value
    line = (SMB + EXPERIMENT.replace(old, new)).splitlines()[found[0].loc.line - 1]
    assert new in line or line.strip() == "- name: sms-first", (line, refused.value)


def test_customers_are_assigned_deterministically_in_the_declared_shares() -> None:
    compiled = with_experiment()
    customers = np.arange(1, 100_001, dtype=np.int64)
    index = arm_index(compiled, customers)
    assert np.array_equal(index, arm_index(compiled, customers[::-1])[::-1])  # per customer, not per position
    shares = np.bincount(index, minlength=3) / customers.size
    assert np.allclose(shares, [0.10, 0.30, 0.60], atol=0.01)
    other = buckets("another-experiment", customers)
    assert (other != buckets("smb-sms-first", customers)).mean() > 0.99  # another name reshuffles
    masks = arms_of(compiled, customers)
    assert sum(int(m.sum()) for _, m in masks) == customers.size


@pytest.mark.parametrize("k", [0, 1, 2], ids=["holdout", "sms-first", "champion"])
def test_both_evaluators_decide_every_arm_identically_and_name_the_arm(k: int) -> None:
    durable = engine()
    arm = with_experiment().arms[k]
    compared = [0]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=fact_rows(arm))
    def check(rows: list[dict[str, Any]]) -> None:
        for scope in (INVOICE_SCOPE, ACCOUNT_SCOPE):
            arrays = arrays_from_rows(rows, arm.facts(scope))
            result = evaluate(arm, arrays, scope)
            for i, facts in enumerate(rows):
                by_durable = durable.evaluate(arm, facts, scope)
                by_numpy = result.decisions(i)
                assert [(d.key, dict(d.facts)) for d in by_numpy] == [(d.key, dict(d.facts)) for d in by_durable]
                for d in by_numpy + by_durable:
                    assert (d.experiment, d.variant) == ("smb-sms-first", arm.strategy.variant)
                    assert d.as_dict()["variant"] == arm.strategy.variant
        compared[0] += len(rows)

    check()
    assert compared[0] >= 200
