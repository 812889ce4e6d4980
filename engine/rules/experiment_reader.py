"""Reading the optional `experiment:` section of a strategy (champion/challenger)."""

from __future__ import annotations

import yaml

from engine.rules.rule_reader import RULE_ID, read_rules
from engine.rules.strategy import Experiment, Rule, Variant
from engine.rules.yamlread import Reader

CHAMPION, HOLDOUT = "champion", "holdout"


def read_experiment(r: Reader, node: yaml.Node, champion: list[Rule]) -> Experiment | None:
    """`experiment: {name, holdout?, variants: [{name, weight, rules}]}`; a variant's rules replace
    the champion's rules of the same id (a variant adds no rule and removes none)."""
    entries = r.mapping(node, "'experiment'", ("name", "variants"), ("holdout",))
    if entries is None or not {"name", "variants"} <= entries.keys():
        return None
    name = r.name(entries["name"][1], "experiment name", RULE_ID)
    holdout = r.integer(entries["holdout"][1], "holdout (percent)", 0, 50) if "holdout" in entries else 0
    by_id = {rule.id: rule for rule in champion}
    variants: list[Variant] = []
    seen = {CHAMPION, HOLDOUT}
    for item in r.seq(entries["variants"][1], "'variants'") or []:
        v = r.mapping(item, "a variant", ("name", "weight", "rules"))
        if v is None or not {"name", "weight", "rules"} <= v.keys():
            continue
        vname = r.name(v["name"][1], "variant name", RULE_ID)
        if vname in seen:
            r.fail(v["name"][1], f"variant name '{vname}' is taken (champion and holdout are reserved)")
            continue
        weight = r.integer(v["weight"][1], "weight (percent)", 1, 99)
        replaced = []
        for rule in read_rules(r, v["rules"][1]):
            if rule.id not in by_id:
                r.fail(rule.loc, f"variant rule '{rule.id}' must replace a champion rule of the same id")
                continue
            replaced.append(rule)
        if vname and weight:
            seen.add(vname)
            variants.append(Variant(vname, weight, tuple(replaced)))
    if not variants:
        r.fail(entries["variants"][1], "an experiment needs at least one variant")
    if holdout is not None and sum(v.weight for v in variants) + holdout >= 100:
        r.fail(entries["variants"][1], "holdout and variant weights must leave the champion some customers (< 100%)")
    if name is None or holdout is None:
        return None
    return Experiment(name, holdout, tuple(variants), r.at(node))
