"""Checks across rules and files: unreachable rules, impossible actions, routing gaps and overlaps."""

from __future__ import annotations

from engine.rules import analysis, ir
from engine.rules.actions import ACCOUNT_TRACK, ON_HOLD_FACT
from engine.rules.compiler import CompiledRule, CompiledStrategy
from engine.rules.errors import Loc, Problem
from engine.rules.facts import RISKS, SEGMENTS
from states.invoice import COLLECTIBLE, STATES


def strategy_problems(compiled: CompiledStrategy) -> list[Problem]:
    problems: list[Problem] = []
    for k, rule in enumerate(compiled.rules):
        found = _impossible_actions(rule)
        problems += found
        if not found:
            problems += _never_fires(rule, [r for r in compiled.rules[:k] if r.track == rule.track])
    return problems


def _impossible_actions(rule: CompiledRule) -> list[Problem]:
    account = rule.track == ACCOUNT_TRACK
    seen = analysis.visible_values(rule.rule.when, "account.on_hold" if account else "state")
    if not seen:  # unknown, or never true at all (reported as "can never fire")
        return []
    if account:
        states = [s for s, held in ON_HOLD_FACT.items() if held in seen]
        what, machine = "accounts", "account"
    else:
        states = [s for s in STATES if s in seen and s in COLLECTIBLE]
        what, machine = "invoices", "invoice"
    problems = []
    universe = list(ON_HOLD_FACT) if account else STATES
    for action, loc in zip(rule.actions, rule.rule.action_locs, strict=True):
        allowed = [s for s in states if s in action.spec.states_for(account)]
        takes = ", ".join(s for s in universe if s in action.spec.states_for(account))
        if states and not allowed:
            problems.append(
                Problem(
                    loc,
                    f"'{action.kind}' can never be taken: rule '{rule.id}' only sees {what} in state "
                    f"{', '.join(states)}, and the {machine} machine allows it only from "
                    f"{takes}",
                )
            )
    if not states and not account:
        problems.append(
            Problem(
                rule.rule.when_loc,
                f"rule '{rule.id}' can never fire: it only sees paid, "
                "cancelled or written-off invoices, which are never evaluated",
            )
        )
    return problems


def _never_fires(rule: CompiledRule, earlier: list[CompiledRule]) -> list[Problem]:
    where = rule.rule.when_loc
    mine = analysis.boxes(rule.cond)
    if mine == []:
        if analysis.boxes(rule.rule.when) == []:
            return [Problem(where, f"rule '{rule.id}' can never fire: its condition is never true")]
        return [
            Problem(
                where,
                f"rule '{rule.id}' can never fire: its condition is never true together with what the "
                f"engine requires for its actions ({ir.show(rule.guard)})",
            )
        ]
    for first in earlier:
        if analysis.implies(rule.cond, first.cond):
            return [
                Problem(
                    where,
                    f"rule '{rule.id}' can never fire: earlier rule '{first.id}' "
                    f"(line {first.rule.loc.line}) matches whenever it does, "
                    f"and the first match wins in track '{rule.track}'",
                )
            ]
    return []


def routing_problems(strategies: list[CompiledStrategy], where: str) -> list[Problem]:
    """Every segment × risk class pair must map to exactly one strategy."""
    owners: dict[tuple[str, str], list[CompiledStrategy]] = {}
    for c in strategies:
        for pair in c.strategy.pairs:
            owners.setdefault(pair, []).append(c)
    problems: list[Problem] = []
    missing = [f"{s} × {r}" for s in SEGMENTS for r in RISKS if not owners.get((s, r))]
    if missing:
        problems.append(Problem(Loc(where, 1, 1), f"routing gap: no strategy applies to {', '.join(missing)}"))
    for pair, found in sorted(owners.items()):
        if len(found) > 1:
            for c in found:
                others = ", ".join(f"'{o.name}' ({o.strategy.file})" for o in found if o is not c)
                problems.append(
                    Problem(
                        c.strategy.applies_loc,
                        f"routing overlap: {pair[0]} × {pair[1]} is also covered by {others}",
                    )
                )
    return problems


def duplicate_names(strategies: list[CompiledStrategy]) -> list[Problem]:
    seen: dict[str, CompiledStrategy] = {}
    problems = []
    for c in strategies:
        if c.name in seen:
            problems.append(
                Problem(c.strategy.loc, f"strategy name '{c.name}' is also used in {seen[c.name].strategy.file}")
            )
        else:
            seen[c.name] = c
    return problems
