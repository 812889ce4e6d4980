"""What an evaluation decides, and why: every decision names its strategy, version, content hash,
rule and the facts it saw, so the transition it causes can be stored with its explanation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.rules import ir
from engine.rules.actions import Action
from engine.rules.compiler import CompiledRule, CompiledStrategy
from engine.rules.facts import FACTS, PREDICTED, Kind
from engine.rules.strategy import FactValue
from states.money import format_minor


@dataclass(frozen=True)
class Order:
    """One action to carry out. `trigger` is the machine trigger (None: no state change)."""

    kind: str
    params: Mapping[str, str]
    machine: str | None  # "invoice" | "account" | None
    trigger: str | None
    target_level: int | None = None  # dun: the level the invoice moves to (dunning_level + 1)
    max_level: int | None = None  # dun: pass to the invoice machine as max_level

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "params": dict(self.params)}
        if self.trigger:
            found |= {"machine": self.machine, "trigger": self.trigger}
        if self.target_level is not None:
            found |= {"target_level": self.target_level, "max_level": self.max_level}
        return found


@dataclass(frozen=True)
class Decision:
    """The winning rule of one track for one invoice (scope "invoice") or customer ("account")."""

    strategy: str
    version: int
    content_hash: str
    scope: str
    track: str
    rule_id: str
    rule_description: str
    orders: tuple[Order, ...]
    facts: Mapping[str, FactValue]
    evaluator: str  # "numpy" | "durable-rules"
    experiment: str = ""  # champion/challenger: the experiment and the customer's arm in it
    variant: str = ""
    predicted: tuple[str, ...] = ()  # the payment-prediction facts the winning rule's condition uses

    @property
    def prediction(self) -> str | None:
        """How the rule used the payment prediction (engine/predict), in words; None: it did not."""
        if not self.predicted:
            return None
        return "payment prediction used: " + ", ".join(f"{n}={self.facts.get(n)}" for n in self.predicted)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; money facts are shown as "120.00 EUR". Store it with the transition."""
        arm = {"experiment": self.experiment, "variant": self.variant} if self.experiment else {}
        return (
            arm
            | {
                "strategy": self.strategy,
                "version": self.version,
                "content_hash": self.content_hash,
                "scope": self.scope,
                "track": self.track,
                "rule": self.rule_id,
                "description": self.rule_description,
                "actions": [o.as_dict() for o in self.orders],
                "facts": shown_facts(self.facts),
                "evaluator": self.evaluator,
            }
            | ({"prediction": self.prediction} if self.predicted else {})
        )

    def explain(self) -> str:
        shown = shown_facts(self.facts)
        seen = ", ".join(f"{k}={v}" for k, v in shown.items())
        acts = "; ".join(f"{o.kind} {dict(o.params)}" for o in self.orders)
        return (
            f"strategy {self.strategy} v{self.version} ({self.content_hash[:12]}), track {self.track}: "
            f"rule '{self.rule_id}' fired -> {acts}. Facts seen: {seen}"
            + (f". The {self.prediction}" if self.predicted else "")
        )

    @property
    def key(self) -> tuple[str, str, tuple[dict[str, Any], ...]]:
        """What two evaluators must agree on."""
        return self.track, self.rule_id, tuple(o.as_dict() for o in self.orders)


@lru_cache(maxsize=1024)
def predicted_in(cond: ir.Cond) -> tuple[str, ...]:
    """The payment-prediction facts a condition uses (named in the explanation of what it fires)."""
    used = ir.facts_of(cond)
    return tuple(n for n in PREDICTED if n in used)


def shown_facts(facts: Mapping[str, FactValue]) -> dict[str, Any]:
    currency = str(facts.get("currency", ""))
    shown: dict[str, Any] = {}
    for name, value in sorted(facts.items()):
        if FACTS[name].kind is Kind.MONEY and currency and isinstance(value, int):
            shown[name] = f"{format_minor(value, currency)} {currency}"
        else:
            shown[name] = value
    return shown


def orders_for(compiled: CompiledStrategy, rule: CompiledRule, facts: Mapping[str, FactValue]) -> tuple[Order, ...]:
    return tuple(_order(compiled, a, facts) for a in rule.actions)


def _order(compiled: CompiledStrategy, action: Action, facts: Mapping[str, FactValue]) -> Order:
    spec = action.spec
    machine = None if spec.trigger is None else ("account" if spec.level == "account" else "invoice")
    params = dict(action.params)
    if action.kind == "dun":
        level = int(facts["dunning_level"]) + 1
        return Order(action.kind, params, machine, spec.trigger, level, compiled.strategy.settings.max_dunning_level)
    return Order(action.kind, params, machine, spec.trigger)


def decide(
    compiled: CompiledStrategy,
    scope: str,
    winners: Mapping[str, CompiledRule],
    facts: Mapping[str, FactValue],
    evaluator: str,
) -> list[Decision]:
    """Decisions (track order of the file) from the winning rule of each track."""
    seen = {name: facts[name] for name in compiled.facts(scope) if name in facts}
    return [
        Decision(
            compiled.name,
            compiled.version,
            compiled.content_hash,
            scope,
            track,
            rule.id,
            rule.rule.description,
            orders_for(compiled, rule, facts),
            seen,
            evaluator,
            *arm_of(compiled),
            predicted_in(rule.cond),
        )
        for track, rule in sorted(winners.items(), key=lambda item: item[1].rule.index)
    ]


def arm_of(compiled: CompiledStrategy) -> tuple[str, str]:
    """(experiment name, arm) of a compiled arm; ("", "") outside any experiment."""
    experiment = compiled.strategy.experiment
    return (experiment.name, compiled.strategy.variant) if experiment and compiled.strategy.variant else ("", "")
