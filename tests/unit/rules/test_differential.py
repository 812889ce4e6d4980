"""The numpy evaluator and the durable-rules evaluator decide identically on every sample strategy,
through the very code the daily cycle decides with (`VectorResult.decider`, as the planner calls it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import strategy_text

from engine.cycle.planner import numpy_decider
from engine.rules import ir
from engine.rules.compiler import ACCOUNT_SCOPE, INVOICE_SCOPE, CompiledStrategy, compile_strategy
from engine.rules.decision import Decision
from engine.rules.durable_eval import engine
from engine.rules.embedded_tests import complete_facts
from engine.rules.facts import FACTS, NEVER_NOTICED, Kind
from engine.rules.loader import load_file, load_text
from engine.rules.numpy_eval import arrays_from_rows, evaluate
from engine.rules.strategy import Expectation

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "strategies").glob("*.yaml"))


def boundaries(compiled: CompiledStrategy) -> dict[str, set[int]]:
    """Every integer a rule compares a fact with, and its neighbours (thresholds ±1)."""
    found: dict[str, set[int]] = {}

    def walk(cond: ir.Cond) -> None:
        if isinstance(cond, ir.And | ir.Or):
            for part in cond.parts:
                walk(part)
        elif isinstance(cond, ir.Cmp):
            for a, b in ((cond.left, cond.right), (cond.right, cond.left)):
                if isinstance(a, ir.FactRef) and isinstance(b, ir.Value) and type(b.value) is int:
                    found.setdefault(a.name, set()).update({b.value - 1, b.value, b.value + 1})

    for rule in compiled.rules:
        walk(rule.cond)
    return found


def fact_rows(compiled: CompiledStrategy) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Batches of fact sets: an embedded test's facts (which reach every rule) with a few facts
    changed to boundary values (every threshold ±1, the level at its maximum, zero amounts, every
    currency in use and one without a minimum) or to arbitrary values."""
    edges = boundaries(compiled)
    currencies = [*sorted(compiled.strategy.settings.min_amount), "JPY"]
    bases = [complete_facts(compiled, t) for t in compiled.strategy.tests] or [_neutral(compiled)]

    def values(name: str) -> st.SearchStrategy[Any]:
        fact = FACTS[name]
        if fact.kind is Kind.BOOL:
            return st.booleans()
        if fact.kind is Kind.ENUM:
            return st.sampled_from(currencies if name == "currency" else list(fact.values))
        near = sorted(edges.get(name, set()) | {0, 1, -1})
        spread = st.integers(-400, 400) if fact.kind is Kind.INT else st.integers(-(10**6), 10**7)
        extra = [NEVER_NOTICED] if name == "days_since_last_notice" else []
        return st.one_of(st.sampled_from(near + extra), spread)

    change = st.one_of(*(st.tuples(st.just(name), values(name)) for name in FACTS))
    row = st.builds(
        lambda base, changes: {**base, **dict(changes)}, st.sampled_from(bases), st.lists(change, max_size=4)
    )
    return st.lists(row, min_size=8, max_size=14)


def _neutral(compiled: CompiledStrategy) -> dict[str, Any]:
    return complete_facts(compiled, Expectation("neutral", {}, None, (), None, compiled.strategy.loc))


def _meaning(decisions: list[Decision]) -> list[tuple[Any, ...]]:
    """Everything a decision says except which evaluator made it."""
    return [(d.key, d.scope, d.rule_description, dict(d.facts), d.strategy, d.version) for d in decisions]


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_numpy_and_durable_rules_decide_identically_on_generated_facts(path: Path) -> None:
    compiled = compile_strategy(load_file(path))
    durable = engine()
    fired: set[str] = set()
    compared = [0]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=fact_rows(compiled))
    def check(rows: list[dict[str, Any]]) -> None:
        for scope in (INVOICE_SCOPE, ACCOUNT_SCOPE):
            if not compiled.scoped(scope):
                continue
            arrays = arrays_from_rows(rows, compiled.facts(scope))
            result = evaluate(compiled, arrays, scope)
            # the cycle's path: decisions built only for the rows some rule fired for
            acted, cycle_decisions = (
                numpy_decider(compiled, arrays) if scope == INVOICE_SCOPE else (result.acted(), None)
            )
            decider = cycle_decisions or result.decider(acted)
            for i, facts in enumerate(rows):
                by_durable = durable.evaluate(compiled, facts, scope)
                assert bool(acted[i]) == bool(by_durable), (scope, facts)
                by_cycle = decider(i) if acted[i] else []
                assert _meaning(by_cycle) == _meaning(by_durable), (scope, facts)
                assert _meaning(result.decisions(i)) == _meaning(by_durable), (scope, facts)
                fired.update(d.rule_id for d in by_cycle)
        compared[0] += len(rows)

    check()
    assert compared[0] >= 1000  # over a thousand fact sets per strategy, both scopes each
    assert fired == {r.id for r in compiled.rules}  # the generator reached every rule


EXOTIC = """
- id: both-sides
  when: days_past_due * 2 - 10 > dunning_level * 3 + days_since_last_notice
  then: [remind: {channel: sms, template: a}]
- id: money-sum
  when: open_amount + 10.00 EUR >= amount - 5 EUR and currency == "EUR"
  then: [remind: {channel: email, template: b}]
- id: fact-vs-fact
  when: account.exposure > account.credit_limit and not (risk in [low])
  then: [remind: {channel: letter, template: c}]
- id: negatives
  when: -days_past_due >= 3 and days_to_due != 7
  then: [remind: {channel: portal, template: d}]
- {id: flags, track: t1, when: disputed != promise_active or business_day == false, then: [create_task: {queue: q}]}
- {id: money-zero, track: t2, when: account.overdue_amount - account.exposure < 0, then: [create_task: {queue: r}]}
- {id: always, track: t2, when: "true", then: [create_task: {queue: s}]}
- {id: blocked-case, track: t3, when: blocked and not disputed, then: [create_task: {queue: blocked}]}
- {id: partly, track: t4, when: blocked == false and collectible_amount < open_amount, then: [create_task: {queue: u}]}
"""


def test_numpy_and_durable_rules_agree_on_arithmetic_fact_comparisons_and_negation() -> None:
    compiled = compile_strategy(load_text(strategy_text(EXOTIC), "exotic.yaml"))
    durable = engine()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=fact_rows(compiled))
    def check(rows: list[dict[str, Any]]) -> None:
        result = evaluate(compiled, arrays_from_rows(rows, compiled.facts(INVOICE_SCOPE)))
        for i, facts in enumerate(rows):
            assert [d.key for d in result.decisions(i)] == [d.key for d in durable.evaluate(compiled, facts)], facts

    check()
