"""Running a strategy's embedded tests through BOTH evaluators, with per-rule coverage.

Facts a test does not give take these values (docs/strategies.md, "Testing"): days_past_due 0
(or -days_to_due), days_to_due -days_past_due, dunning_level 0, state dunning if the level is
above 0, overdue if past due, else open (disputed / promised when those flags are given),
disputed and promise_active from the state, currency the one of the money given (else the first
of min_amount), open_amount 1000.00, amount = open_amount, days_since_last_notice 9999 at level 0
else 0, recent_notices 0, segment and risk the first of applies_to, risk_score 50,
account.exposure = open_amount, account.overdue_amount = open_amount when past due else 0,
account.max_days_past_due = max(days_past_due, 0), p_late 100 past due else 0,
predicted_days_late max(days_past_due, 0), days_to_expected_payment max(days_to_due, 0) (the due-date
baseline an unscored invoice gets), every other number 0, account.on_hold false, business_day true.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.rules.compiler import ACCOUNT_SCOPE, INVOICE_SCOPE, CompiledStrategy
from engine.rules.decision import Decision
from engine.rules.durable_eval import DurableEvaluator
from engine.rules.errors import Problem
from engine.rules.facts import FACTS, NEVER_NOTICED
from engine.rules.numpy_eval import arrays_from_rows, evaluate
from engine.rules.strategy import Expectation, FactValue
from states.invoice import DISPUTED, DUNNING, OPEN, OVERDUE, PROMISED
from states.money import to_minor


@dataclass(frozen=True)
class Outcome:
    test: Expectation
    fired: tuple[str, ...]
    problem: Problem | None  # None: passed


def complete_facts(compiled: CompiledStrategy, test: Expectation) -> dict[str, FactValue]:
    s, f = compiled.strategy, dict(test.given)
    dpd = int(f.get("days_past_due", -int(f.get("days_to_due", 0))))
    f.setdefault("days_past_due", dpd)
    f.setdefault("days_to_due", -dpd)
    level = int(f.setdefault("dunning_level", 0))
    state = DISPUTED if f.get("disputed") else PROMISED if f.get("promise_active") else None
    state = state or (DUNNING if level > 0 else OVERDUE if dpd > 0 else OPEN)
    f.setdefault("state", state)
    f.setdefault("disputed", f["state"] == DISPUTED)
    f.setdefault("promise_active", f["state"] == PROMISED)
    currency = str(f.get("currency") or test.given_currency or next(iter(sorted(s.settings.min_amount)), "EUR"))
    f["currency"] = currency
    f.setdefault("open_amount", f.get("amount", to_minor("1000", currency)))
    f.setdefault("amount", f["open_amount"])
    f.setdefault("collectible_amount", f["open_amount"])
    f.setdefault("days_since_last_notice", NEVER_NOTICED if level == 0 else 0)
    f.setdefault("segment", s.segments[0])
    f.setdefault("risk", s.risks[0])
    f.setdefault("risk_score", 50)
    f.setdefault("account.exposure", f["open_amount"])
    f.setdefault("account.overdue_amount", f["open_amount"] if dpd > 0 else 0)
    f.setdefault("account.max_days_past_due", max(dpd, 0))
    f.setdefault("p_late", 100 if dpd > 0 else 0)
    f.setdefault("predicted_days_late", max(dpd, 0))
    f.setdefault("days_to_expected_payment", max(-dpd, 0))
    f.setdefault("account.on_hold", False)
    f.setdefault("business_day", True)
    for name, fact in FACTS.items():
        f.setdefault(name, False if fact.kind.value == "bool" else 0)
    return f


def inconsistency(f: dict[str, FactValue]) -> str | None:
    if f["days_to_due"] != -int(f["days_past_due"]):
        return "days_to_due must be -days_past_due"
    if f["disputed"] != (f["state"] == DISPUTED) or f["promise_active"] != (f["state"] == PROMISED):
        return "disputed / promise_active must agree with state (disputed, promised)"
    return None


def decisions_both(
    compiled: CompiledStrategy, facts: dict[str, FactValue], durable: DurableEvaluator
) -> tuple[list[Decision], list[Decision]]:
    """(numpy decisions, durable-rules decisions) for one fact set, both scopes."""
    by_numpy: list[Decision] = []
    by_durable: list[Decision] = []
    for scope in (INVOICE_SCOPE, ACCOUNT_SCOPE):
        if not compiled.scoped(scope):
            continue
        result = evaluate(compiled, arrays_from_rows([facts], compiled.facts(scope)), scope)
        by_numpy += result.decisions(0)
        by_durable += durable.evaluate(compiled, facts, scope)
    return by_numpy, by_durable


def run_test(compiled: CompiledStrategy, test: Expectation, durable: DurableEvaluator) -> Outcome:
    facts = complete_facts(compiled, test)
    wrong = inconsistency(facts)
    if wrong:
        return Outcome(test, (), Problem(test.loc, f"test '{test.name}': {wrong}"))
    by_numpy, by_durable = decisions_both(compiled, facts, durable)
    fired = tuple(d.rule_id for d in by_durable)
    if [d.key for d in by_numpy] != [d.key for d in by_durable]:
        numpy_fired = [d.rule_id for d in by_numpy]
        msg = f"test '{test.name}': the evaluators disagree (numpy {numpy_fired}, durable-rules {list(fired)})"
        return Outcome(test, fired, Problem(test.loc, msg))
    if sorted(fired) != sorted(test.expect):
        msg = f"test '{test.name}': expected {list(test.expect) or 'no rule'}, got {list(fired) or 'no rule'}"
        return Outcome(test, fired, Problem(test.loc, msg))
    for wanted in test.expect_actions or ():
        if not any(
            o.kind == wanted.kind and all(o.params.get(k) == v for k, v in wanted.params)
            for d in by_durable
            for o in d.orders
        ):
            return Outcome(test, fired, Problem(test.loc, f"test '{test.name}': no action {wanted} was decided"))
    return Outcome(test, fired, None)


def run_tests(compiled: CompiledStrategy, durable: DurableEvaluator) -> tuple[list[Outcome], dict[str, int]]:
    outcomes = [run_test(compiled, t, durable) for t in compiled.strategy.tests]
    coverage = {r.id: sum(r.id in o.fired for o in outcomes) for r in compiled.rules}
    return outcomes, coverage


def test_problems(compiled: CompiledStrategy, outcomes: list[Outcome], coverage: dict[str, int]) -> list[Problem]:
    """What `o2c strategies test` reports for one file: each failing test (at its line) and each
    rule no test hits (at the rule's line)."""
    return [o.problem for o in outcomes if o.problem] + [
        Problem(r.rule.loc, f"rule '{r.id}' is hit by no test") for r in compiled.rules if not coverage[r.id]
    ]
