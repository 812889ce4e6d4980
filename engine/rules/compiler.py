"""Compile a validated strategy into the one form both evaluators run.

Each rule's condition becomes `when AND guard`, where the guard is what the hit policy and the
state machines demand (see docs/strategies.md, "Hit policy"):

* the invoice is in a state from which every action of the rule can be taken (final states never);
* `dun`: dunning_level < max_dunning_level (a level is never skipped: the target is level + 1),
  and days_past_due >= grace_days;
* `remind`: days_past_due <= 0 (before or on the due date) or days_past_due >= grace_days;
* any notice (remind, dun): collectible_amount (the open amount less what is disputed) >=
  min_amount of the invoice's currency (a currency without a minimum gets no notices) and
  recent_notices < contact_cap.max;
* `release_hold`: the account is on hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from engine.rules import ir
from engine.rules.actions import ACCOUNT_TRACK, ON_HOLD_FACT, Action
from engine.rules.strategy import Rule, Strategy, StrategySettings
from states.account import STATES as ACCOUNT_STATES
from states.invoice import STATES

INVOICE_SCOPE, ACCOUNT_SCOPE = "invoice", "account"


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    guard: ir.Cond
    cond: ir.Cond  # when AND guard: what both evaluators evaluate

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def track(self) -> str:
        return self.rule.track

    @property
    def scope(self) -> str:
        return ACCOUNT_SCOPE if self.rule.track == ACCOUNT_TRACK else INVOICE_SCOPE

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.rule.actions


@dataclass(frozen=True)
class CompiledStrategy:
    strategy: Strategy
    rules: tuple[CompiledRule, ...]
    # With an experiment: one compiled copy per arm (holdout if any, the variants, the champion),
    # in the order customers are assigned to them (see engine/rules/experiment.py).
    arms: tuple[CompiledStrategy, ...] = ()

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def version(self) -> int:
        return self.strategy.version

    @property
    def content_hash(self) -> str:
        return self.strategy.content_hash

    def scoped(self, scope: str) -> tuple[CompiledRule, ...]:
        return self._scoped.get(scope, ())

    @cached_property
    def _scoped(self) -> dict[str, tuple[CompiledRule, ...]]:
        return {s: tuple(r for r in self.rules if r.scope == s) for s in (INVOICE_SCOPE, ACCOUNT_SCOPE)}

    def tracks(self, scope: str) -> dict[str, tuple[CompiledRule, ...]]:
        """Rules per track in file order: the first matching rule of each track wins."""
        found: dict[str, list[CompiledRule]] = {}
        for rule in self.scoped(scope):
            found.setdefault(rule.track, []).append(rule)
        return {track: tuple(rules) for track, rules in found.items()}

    def facts(self, scope: str) -> list[str]:
        """The facts an evaluation of `scope` needs (and shows in its explanation)."""
        return list(self._facts[scope])

    @cached_property
    def _facts(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for scope in (INVOICE_SCOPE, ACCOUNT_SCOPE):
            names: set[str] = set()
            for rule in self.scoped(scope):
                names |= ir.facts_of(rule.cond)
            found[scope] = tuple(sorted(names))
        return found

    @cached_property
    def label(self) -> str:
        """A ruleset name unique per content: name, version and the first 16 hex of the hash."""
        arm = f".{self.strategy.variant}" if self.strategy.variant else ""
        return f"o2c.{self.name}.v{self.version}.{self.content_hash[:16]}{arm}"


def compile_strategy(strategy: Strategy) -> CompiledStrategy:
    rules = []
    for rule in strategy.rules:
        g = guard(rule, strategy.settings)
        rules.append(CompiledRule(rule, g, ir.all_of(rule.when, g)))
    found = CompiledStrategy(strategy, tuple(rules))
    experiment = strategy.experiment
    if experiment is None or strategy.variant:
        return found
    arms = [replace(strategy, variant="holdout")] if experiment.holdout else []
    for variant in experiment.variants:
        by_id = {r.id: replace(r, index=strategy.rule(r.id).index) for r in variant.rules}
        arms.append(replace(strategy, rules=tuple(by_id.get(r.id, r) for r in strategy.rules), variant=variant.name))
    arms.append(replace(strategy, variant="champion"))
    return replace(found, arms=tuple(compile_strategy(arm) for arm in arms))


def _is(name: str, value: int | str | bool, op: str = "==") -> ir.Cond:
    return ir.Cmp(op, ir.FactRef(name), ir.Value(value))


def allowed_states(rule: Rule) -> list[str]:
    """States of the rule's machine from which every one of its actions can be taken."""
    universe = ACCOUNT_STATES if rule.track == ACCOUNT_TRACK else STATES
    states = set(universe)
    for action in rule.actions:
        states &= action.spec.states_for(rule.track == ACCOUNT_TRACK)
    return [s for s in universe if s in states]


def guard(rule: Rule, settings: StrategySettings) -> ir.Cond:
    states = allowed_states(rule)
    kinds = {a.kind for a in rule.actions}
    if rule.track == ACCOUNT_TRACK:
        on_hold = sorted({ON_HOLD_FACT[s] for s in states})
        return _is("account.on_hold", on_hold[0]) if len(on_hold) == 1 else ir.TRUE if on_hold else ir.FALSE
    parts: list[ir.Cond] = [ir.any_of(*(_is("state", s) for s in states))]
    if "dun" in kinds:
        parts.append(_is("dunning_level", settings.max_dunning_level, "<"))
        parts.append(_is("days_past_due", settings.grace_days, ">="))
    elif "remind" in kinds:
        parts.append(ir.any_of(_is("days_past_due", 0, "<="), _is("days_past_due", settings.grace_days, ">=")))
    if any(a.spec.notice for a in rule.actions):
        per_currency = [
            ir.all_of(
                _is("currency", code),
                _is("open_amount", minimum, ">="),
                _is("collectible_amount", max(minimum, 1), ">="),
            )
            for code, minimum in sorted(settings.min_amount.items())
        ]
        parts.append(ir.any_of(*per_currency))
        parts.append(_is("covered_by_credit", False))  # cash already received pays it: never chase it
        if settings.contact_cap:
            parts.append(_is("recent_notices", settings.contact_cap.max, "<"))
    return ir.all_of(*parts)
