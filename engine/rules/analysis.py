"""Static checks that need the meaning of conditions: rules that can never fire, and actions the
state machines can never take from the states a rule can see.

Conditions are brought into a disjunction of boxes (`Box`: per fact an interval of integers or
a set of values). That is exact for comparisons of one fact with a constant; anything else
(arithmetic, fact against fact) is kept as an opaque atom, which only makes the checks say less,
never wrongly. Invariants the facts obey are used: disputed <=> state disputed, promise_active <=>
state promised, days_to_due == -days_past_due, account.on_hold <=> the account state on_hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.rules import ir
from engine.rules.facts import FACTS, Kind
from states.invoice import DISPUTED, PROMISED

LOW, HIGH = -(2**63), 2**63
MAX_BOXES = 512
Constraint = tuple[int, int] | frozenset[str | bool]


@dataclass(frozen=True)
class Box:
    """A conjunction: fact -> interval (inclusive) or allowed values; plus opaque atoms."""

    facts: tuple[tuple[str, Constraint], ...]
    opaque: frozenset[ir.Cmp]

    def get(self, name: str) -> Constraint | None:
        return dict(self.facts).get(name)

    def empty(self) -> bool:
        return any((c[0] > c[1]) if isinstance(c, tuple) else not c for _, c in self.facts)

    def within(self, other: Box) -> bool:
        """Every case of self is a case of other (sound: False when unsure)."""
        if not other.opaque <= self.opaque:
            return False
        for name, theirs in other.facts:
            mine = self.get(name) or _domain(name)
            if isinstance(theirs, tuple):
                if not (isinstance(mine, tuple) and theirs[0] <= mine[0] and mine[1] <= theirs[1]):
                    return False
            elif not (isinstance(mine, frozenset) and mine <= theirs):
                return False
        return True


def _domain(name: str) -> Constraint:
    fact = FACTS[name]
    if fact.kind is Kind.BOOL:
        return frozenset({True, False})
    if fact.kind is Kind.ENUM:
        return frozenset(fact.values)
    return (LOW, HIGH)


def _meet(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return (max(a[0], b[0]), min(a[1], b[1]))
    assert isinstance(a, frozenset) and isinstance(b, frozenset)
    return a & b


def _atom(cmp: ir.Cmp) -> list[Box]:
    """One comparison as boxes (`!=` on a number is two intervals)."""
    op, left, right = cmp.op, cmp.left, cmp.right
    if isinstance(right, ir.FactRef) and isinstance(left, ir.Value):
        op, left, right = ir.FLIP[op], right, left
    if not (isinstance(left, ir.FactRef) and isinstance(right, ir.Value)):
        return [Box((), frozenset({cmp}))]
    name, value = left.name, right.value
    if name == "days_to_due" and isinstance(value, int):  # days_to_due op v  <=>  days_past_due FLIP[op] -v
        name, op, value = "days_past_due", ir.FLIP[op], -value
    domain = _domain(name)
    if isinstance(domain, frozenset):
        allowed = frozenset(v for v in domain if ir.apply(op, v, value))
        if name in ("disputed", "promise_active"):
            marker = DISPUTED if name == "disputed" else PROMISED
            states = frozenset(FACTS["state"].values)
            keep = states if allowed == domain else frozenset({marker}) if allowed == {True} else states - {marker}
            return [Box((("state", keep),), frozenset())] if allowed else [Box((("state", frozenset()),), frozenset())]
        return [Box(((name, allowed),), frozenset())]
    assert isinstance(value, int)
    spans = {
        "==": [(value, value)], "<": [(LOW, value - 1)], "<=": [(LOW, value)],
        ">": [(value + 1, HIGH)], ">=": [(value, HIGH)], "!=": [(LOW, value - 1), (value + 1, HIGH)],
    }[op]  # fmt: skip
    return [Box(((name, span),), frozenset()) for span in spans]


def _and(a: Box, b: Box) -> Box:
    merged = dict(a.facts)
    for name, c in b.facts:
        merged[name] = _meet(merged[name], c) if name in merged else c
    return Box(tuple(sorted(merged.items(), key=lambda kv: kv[0])), a.opaque | b.opaque)


def boxes(cond: ir.Cond) -> list[Box] | None:
    """The satisfiable boxes of `cond` (an empty list: never true), or None when too large."""
    if isinstance(cond, ir.Const):
        return [Box((), frozenset())] if cond.value else []
    if isinstance(cond, ir.Cmp):
        return [b for b in _atom(cond) if not b.empty()]
    found: list[Box] | None
    if isinstance(cond, ir.Or):
        found = []
        for part in cond.parts:
            more = boxes(part)
            if more is None:
                return None
            found += more
    else:
        found = [Box((), frozenset())]
        for part in cond.parts:
            more = boxes(part)
            if more is None:
                return None
            found = [m for m in (_and(x, y) for x in found for y in more) if not m.empty()]
            if len(found) > MAX_BOXES:
                return None
    return found if len(found) <= MAX_BOXES else None


def implies(a: ir.Cond, b: ir.Cond) -> bool:
    """True when every case of `a` is a case of `b` (False when undecidable)."""
    if a == b or b == ir.TRUE:
        return True
    mine, theirs = boxes(a), boxes(b)
    if mine is None or theirs is None:
        return False
    return all(any(x.within(y) for y in theirs) for x in mine)


def visible_values(cond: ir.Cond, name: str) -> frozenset[str | bool] | None:
    """The values of an enum/bool fact for which `cond` can be true (None: unknown)."""
    found = boxes(cond)
    if found is None:
        return None
    values: set[str | bool] = set()
    for box in found:
        c = box.get(name) or _domain(name)
        assert isinstance(c, frozenset)
        values |= c
    return frozenset(values)
