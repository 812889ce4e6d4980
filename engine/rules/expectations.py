"""Reading the `tests:` list: given facts, expected rule ids and (optionally) actions."""

from __future__ import annotations

import yaml

from engine.rules.actions import Action
from engine.rules.errors import did_you_mean
from engine.rules.facts import FACTS, MAX_MAGNITUDE, Kind
from engine.rules.rule_reader import read_actions
from engine.rules.strategy import Expectation, FactValue
from engine.rules.yamlread import Reader
from states.errors import ValidationFailed
from states.money import Money


def read_tests(r: Reader, node: yaml.Node, rule_ids: set[str]) -> list[Expectation]:
    tests: list[Expectation] = []
    for number, item in enumerate(r.seq(node, "'tests'") or [], start=1):
        entries = r.mapping(item, "a test", ("given", "expect"), ("name", "expect_actions"))
        if entries is None or not {"given", "expect"} <= entries.keys():
            continue
        before = len(r.problems)
        name = r.scalar(entries["name"][1], "test name") if "name" in entries else f"test {number}"
        given, currency = _given(r, entries["given"][1])
        expect: list[str] = []
        for id_node in r.seq(entries["expect"][1], "'expect'") or []:
            rule_id = r.scalar(id_node, "rule id")
            if rule_id is not None and rule_id not in rule_ids:
                r.fail(id_node, f"unknown rule id '{rule_id}'{did_you_mean(rule_id, rule_ids)}")
            elif rule_id is not None:
                expect.append(rule_id)
        actions: tuple[Action, ...] | None = None
        if "expect_actions" in entries:
            actions = tuple(a for a, _ in read_actions(r, entries["expect_actions"][1], partial=True))
        if len(r.problems) == before:
            tests.append(Expectation(name or "", given, currency, tuple(expect), actions, r.at(item)))
    return tests


def _given(r: Reader, node: yaml.Node) -> tuple[dict[str, FactValue], str | None]:
    given: dict[str, FactValue] = {}
    currencies: dict[str, yaml.Node] = {}
    if not isinstance(node, yaml.MappingNode):
        r.fail(node, "'given' must be a mapping of fact: value")
        return given, None
    for key, value in node.value:
        name = str(key.value)
        fact = FACTS.get(name)
        if fact is None:
            r.fail(key, f"unknown fact '{name}'{did_you_mean(name, list(FACTS))}")
            continue
        if name in given:
            r.fail(key, f"duplicate fact '{name}'")
            continue
        what = f"'{name}'"
        if fact.kind is Kind.INT:
            got: FactValue | None = r.integer(value, what, -MAX_MAGNITUDE, MAX_MAGNITUDE)
        elif fact.kind is Kind.BOOL:
            got = r.boolean(value, what)
        elif fact.kind is Kind.ENUM:
            got = r.choice(value, f"value of {what}", fact.values)
            if got is not None and name == "currency":
                currencies.setdefault(got, value)
        else:
            got = _money(r, value, what, currencies)
        if got is not None:
            given[name] = got
    if len(currencies) > 1:
        r.fail(node, f"all money in one test is in one currency, not {' and '.join(sorted(currencies))}")
    return given, next(iter(currencies), None)


def _money(r: Reader, node: yaml.Node, what: str, currencies: dict[str, yaml.Node]) -> int | None:
    text = r.scalar(node, what)
    if text is None:
        return None
    if text.strip() == "0":
        return 0
    try:
        money = Money.parse(text)
    except ValidationFailed as exc:
        r.fail(node, f"{what}: {exc.message}")
        return None
    if abs(money.minor) > MAX_MAGNITUDE:
        r.fail(node, f"{what} is too large")
        return None
    currencies.setdefault(money.currency, node)
    return money.minor
