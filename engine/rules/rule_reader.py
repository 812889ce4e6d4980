"""Reading the `rules:` list: ids, conditions (parsed and type-checked), actions and tracks."""

from __future__ import annotations

import re

import yaml

from engine.rules import ir
from engine.rules.actions import (
    ACCOUNT_LEVEL,
    ACCOUNT_TRACK,
    DUNNING_TRACK,
    INVOICE_LEVEL,
    NAME_PATTERN,
    SPECS,
    Action,
)
from engine.rules.errors import Loc
from engine.rules.facts import CUSTOMER_FACTS
from engine.rules.lexer import SyntaxProblem
from engine.rules.parser import parse
from engine.rules.strategy import Rule
from engine.rules.typecheck import TypeProblem, check
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import locator

RULE_ID = r"[a-z0-9][a-z0-9_\-]*"
_NOTE = re.compile(r"^[^\x00-\x1f]{0,500}$")


def read_actions(r: Reader, node: yaml.Node, partial: bool = False) -> list[tuple[Action, yaml.Node]]:
    """A `then:` list. With `partial` (test expectations), parameters may be left out."""
    found: list[tuple[Action, yaml.Node]] = []
    for item in r.seq(node, "'then'") or []:
        if isinstance(item, yaml.ScalarNode) and partial:
            kind = r.choice(item, "action", list(SPECS))
            if kind:
                found.append((Action(kind, ()), item))
            continue
        if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
            r.fail(
                item,
                "each action is one 'name: {parameters}' entry, e.g. dun: {channel: email, template: d1}",
            )
            continue
        key, value = item.value[0]
        kind = r.choice(key, "action", list(SPECS))
        if kind is None:
            continue
        spec = SPECS[kind]
        required = [] if partial else [p for p in spec.params if p not in spec.optional]
        optional = [p for p in spec.params if p not in required]
        entries = r.mapping(value, f"'{kind}'", required, optional)
        if entries is None:
            continue
        params: list[tuple[str, str]] = []
        for pname, (_, pnode) in sorted(entries.items()):
            allowed = spec.params[pname]
            if allowed is not None:
                got = r.choice(pnode, f"{kind} {pname}", allowed)
            elif pname == "note":
                got = r.scalar(pnode, "note")
                if got is not None and not _NOTE.match(got):
                    r.fail(pnode, "a note is one line of at most 500 characters")
                    got = None
            else:
                got = r.name(pnode, f"{kind} {pname}", NAME_PATTERN)
            if got is not None:
                params.append((pname, got))
        if len(params) == len(entries):
            found.append((Action(kind, tuple(params)), item))
    return found


def read_rules(r: Reader, node: yaml.Node) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[str, Loc] = {}
    items = r.seq(node, "'rules'") or []
    if not items:
        r.fail(node, "a strategy needs at least one rule")
    for index, item in enumerate(items):
        entries = r.mapping(item, "a rule", ("id", "when", "then"), ("description", "track"))
        if entries is None or not {"id", "when", "then"} <= entries.keys():
            continue
        rule_id = r.name(entries["id"][1], "rule id", RULE_ID)
        if rule_id in seen:
            first = seen[rule_id]
            r.fail(entries["id"][1], f"duplicate rule id '{rule_id}' (first at line {first.line})")
        elif rule_id:
            seen[rule_id] = r.at(entries["id"][1])
        description = r.scalar(entries["description"][1], "description") if "description" in entries else ""
        then = entries["then"][1]
        actions = read_actions(r, then)
        written = len(then.value) if isinstance(then, yaml.SequenceNode) else -1
        if written == 0:
            r.fail(then, "a rule needs at least one action")
        track = _track(r, entries, [a for a, _ in actions], [n for _, n in actions])
        when = _condition(r, entries["when"][1], track)
        if rule_id and when is not None and track and len(actions) == len(r.seq(entries["then"][1], "") or []):
            rules.append(
                Rule(
                    rule_id, index, description or "", str(entries["when"][1].value), when,
                    tuple(a for a, _ in actions), track, r.at(item), r.at(entries["when"][1]),
                    tuple(r.at(n) for _, n in actions),
                )
            )  # fmt: skip
    return rules


def _track(r: Reader, entries: dict[str, tuple[yaml.Node, yaml.Node]], acts: list[Action], at: list[yaml.Node]) -> str:
    levels = {a.spec.level for a in acts} - {"either"}
    if len(levels) > 1:
        r.fail(
            entries["then"][1],
            "a rule acts on invoices or on the customer's account, not both; split it in two",
        )
        return ""
    default = ACCOUNT_TRACK if levels == {ACCOUNT_LEVEL} else DUNNING_TRACK
    track = r.name(entries["track"][1], "track", RULE_ID) if "track" in entries else default
    if not track:
        return ""
    for action, node in zip(acts, at, strict=True):
        if action.spec.level == ACCOUNT_LEVEL and track != ACCOUNT_TRACK:
            r.fail(
                node,
                f"'{action.kind}' acts on the account and belongs in track '{ACCOUNT_TRACK}', not '{track}'",
            )
        if action.spec.level == INVOICE_LEVEL and track != DUNNING_TRACK:
            r.fail(
                node,
                f"'{action.kind}' belongs in track '{DUNNING_TRACK}' (one notice or escalation per invoice)",
            )
    notices = [a.kind for a in acts if a.spec.notice]
    if len(notices) > 1:
        r.fail(entries["then"][1], f"a rule sends at most one notice, not {' and '.join(notices)}")
    triggers = [a.kind for a in acts if a.spec.trigger and a.spec.level == INVOICE_LEVEL]
    if len(triggers) > 1:
        r.fail(entries["then"][1], f"a rule moves the invoice once; {' and '.join(triggers)} cannot go together")
    kinds = [a.kind for a in acts]
    for kind in sorted({k for k in kinds if kinds.count(k) > 1}):
        r.fail(entries["then"][1], f"'{kind}' appears twice in one rule")
    return track


def _condition(r: Reader, node: yaml.Node, track: str) -> ir.Cond | None:
    if not isinstance(node, yaml.ScalarNode):
        r.fail(node, "'when' must be one condition, e.g. days_past_due >= 3 and dunning_level == 0")
        return None
    where = locator(node, r.text, r.file)

    def allowed(name: str) -> str | None:
        if track == ACCOUNT_TRACK and name not in CUSTOMER_FACTS:
            return (
                f"'{name}' is an invoice fact; account rules are evaluated once per customer and see only "
                f"{', '.join(sorted(CUSTOMER_FACTS))}"
            )
        return None

    try:
        return check(parse(str(node.value)), allowed)
    except (SyntaxProblem, TypeProblem) as exc:
        r.fail(where(exc.offset), exc.message)
        return None
