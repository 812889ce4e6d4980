"""The one intermediate form both evaluators run: conditions without `not`, literals resolved.

A condition is `Const`, `Cmp` (two terms), `And` or `Or`. Terms are fact references,
integer / text / boolean constants and integer arithmetic. Money is already integer minor units;
a money literal has become an integer plus a `currency == "EUR"` comparison next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}  # a op b  <=>  b FLIP[op] a
NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


@dataclass(frozen=True)
class FactRef:
    name: str


@dataclass(frozen=True)
class Value:
    value: int | str | bool


@dataclass(frozen=True)
class Calc:
    op: str  # + - *
    left: Term
    right: Term


Term = FactRef | Value | Calc


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Term
    right: Term


@dataclass(frozen=True)
class And:
    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Cond, ...]


Cond = Const | Cmp | And | Or
TRUE, FALSE = Const(True), Const(False)


def apply(op: str, a: int | str | bool, b: int | str | bool) -> bool:
    """Compare two plain values (both evaluators and the analysis agree on this table)."""
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if isinstance(a, str) or isinstance(b, str):
        raise TypeError("text values have no order")
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def calc(op: str, a: int, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def all_of(*parts: Cond) -> Cond:
    flat: list[Cond] = []
    for part in parts:
        if part == FALSE:
            return FALSE
        if part == TRUE:
            continue
        flat.extend(part.parts if isinstance(part, And) else (part,))
    return flat[0] if len(flat) == 1 else And(tuple(dict.fromkeys(flat))) if flat else TRUE


def any_of(*parts: Cond) -> Cond:
    flat: list[Cond] = []
    for part in parts:
        if part == TRUE:
            return TRUE
        if part == FALSE:
            continue
        flat.extend(part.parts if isinstance(part, Or) else (part,))
    return flat[0] if len(flat) == 1 else Or(tuple(dict.fromkeys(flat))) if flat else FALSE


def compare(op: str, left: Term, right: Term) -> Cond:
    """A comparison, folded to a constant when both sides are constants."""
    if isinstance(left, Value) and isinstance(right, Value):
        return Const(apply(op, left.value, right.value))
    return Cmp(op, left, right)


def negate(cond: Cond) -> Cond:
    if isinstance(cond, Const):
        return Const(not cond.value)
    if isinstance(cond, Cmp):
        return Cmp(NEGATE[cond.op], cond.left, cond.right)
    if isinstance(cond, And):
        return any_of(*(negate(p) for p in cond.parts))
    return all_of(*(negate(p) for p in cond.parts))


def facts_of(item: Cond | Term) -> set[str]:
    if isinstance(item, FactRef):
        return {item.name}
    if isinstance(item, Calc | Cmp):
        return facts_of(item.left) | facts_of(item.right)
    if isinstance(item, And | Or):
        return set().union(*(facts_of(p) for p in item.parts))
    return set()


def show(item: Cond | Term) -> str:
    """A readable form, used in explanations and error messages."""
    if isinstance(item, FactRef):
        return item.name
    if isinstance(item, Value):
        v = item.value
        return ("true" if v else "false") if isinstance(v, bool) else f'"{v}"' if isinstance(v, str) else str(v)
    if isinstance(item, Calc):
        return f"({show(item.left)} {item.op} {show(item.right)})"
    if isinstance(item, Const):
        return "true" if item.value else "false"
    if isinstance(item, Cmp):
        return f"{show(item.left)} {item.op} {show(item.right)}"
    joiner = " and " if isinstance(item, And) else " or "
    return "(" + joiner.join(show(p) for p in item.parts) + ")"
