"""Type checking: the parsed tree becomes an `ir` condition, or a list of (offset, message).

Types: int (day counts, levels, points, percent), money, bool, enum (a fact with a closed set of
text values) and text literals. Money compares only with money; the literal `0` is zero in every
currency. A money literal in EUR turns its comparison into "currency is EUR and ...", so
`open_amount >= 50 EUR` is false for a USD invoice (and `not (...)` true).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.rules import ir
from engine.rules import nodes as n
from engine.rules.errors import did_you_mean
from engine.rules.facts import FACTS, MAX_MAGNITUDE, Kind
from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS, to_minor

# Arithmetic whose result could exceed this is refused (both evaluators use 64-bit integers).
MAX_RESULT = 4 * 10**18


class TypeProblem(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Typed:
    term: ir.Term
    kind: str  # int | money | bool | enum | text
    values: tuple[str, ...] = ()  # the allowed values of an enum
    currencies: frozenset[str] = frozenset()  # currencies of money literals inside
    bound: int = MAX_MAGNITUDE

    @property
    def zero(self) -> bool:
        return self.term == ir.Value(0) and self.kind == "int"


def check(tree: n.Node, allowed: Callable[[str], str | None] = lambda name: None) -> ir.Cond:
    """Lower `tree` to a condition. `allowed(name)` returns a refusal message for a fact, or None."""
    return _Checker(allowed).cond(tree)


class _Checker:
    def __init__(self, allowed: Callable[[str], str | None]) -> None:
        self.allowed = allowed

    def cond(self, node: n.Node) -> ir.Cond:
        if isinstance(node, n.BoolOp):
            parts = [self.cond(p) for p in node.operands]
            return ir.all_of(*parts) if node.op == "and" else ir.any_of(*parts)
        if isinstance(node, n.Not):
            return ir.negate(self.cond(node.operand))
        if isinstance(node, n.Compare):
            return self.compare(node.op, self.value(node.left), self.value(node.right), node)
        if isinstance(node, n.InList):
            return self.in_list(node)
        typed = self.value(node)
        if typed.kind != "bool":
            what = _what(typed)
            raise TypeProblem(node.offset, f"{what} is not a condition; compare it (for example with '>' or '==')")
        return ir.compare("==", typed.term, ir.Value(True))

    def in_list(self, node: n.InList) -> ir.Cond:
        if not node.choices:
            raise TypeProblem(node.offset, "empty list after 'in'")
        item = self.value(node.item)
        options = [self.compare("==", item, self.value(c), c) for c in node.choices]
        found = ir.any_of(*options)
        return ir.negate(found) if node.negated else found

    def compare(self, op: str, a: Typed, b: Typed, node: n.Node) -> ir.Cond:
        kinds = {a.kind, b.kind}
        at = node.offset
        if kinds <= {"int"}:
            return ir.compare(op, a.term, b.term)
        if kinds <= {"money"} or (kinds == {"money", "int"} and (a.zero or b.zero)):
            cur = self.one_currency(a, b, at)
            test = ir.compare(op, a.term, b.term)
            return ir.all_of(ir.Cmp("==", ir.FactRef("currency"), ir.Value(cur)), test) if cur else test
        if kinds == {"money", "int"}:
            raise TypeProblem(
                at,
                "money compared with a plain number; write the amount with a currency, e.g. 50 EUR (only 0 needs none)",
            )
        if kinds & {"int", "money"}:
            raise TypeProblem(at, f"cannot compare {_what(a)} with {_what(b)}: a number is never text or yes/no")
        if op not in ("==", "!="):
            raise TypeProblem(at, f"'{op}' needs numbers or money; {_what(a)} and {_what(b)} only use == or !=")
        if kinds == {"bool"}:
            return ir.compare(op, a.term, b.term)
        if kinds <= {"enum", "text"}:
            return self.compare_text(op, a, b, at)
        hint = ""
        for x, y in ((a, b), (b, a)):
            if isinstance(y.term, ir.FactRef) and y.term.name in x.values:
                hint = f'; to mean the value, write it in quotes: "{y.term.name}"'
        raise TypeProblem(at, f"cannot compare {_what(a)} with {_what(b)}{hint}")

    def compare_text(self, op: str, a: Typed, b: Typed, at: int) -> ir.Cond:
        if a.kind == "enum" and b.kind == "enum" and a.values != b.values:
            raise TypeProblem(at, f"cannot compare {_what(a)} with {_what(b)}: they take different values")
        for enum, text in ((a, b), (b, a)):
            if enum.kind == "enum" and text.kind == "text":
                word = str(text.term.value) if isinstance(text.term, ir.Value) else ""
                if word not in enum.values:
                    hint = did_you_mean(word, enum.values) or f"; choose one of {', '.join(enum.values[:12])}"
                    raise TypeProblem(at, f"'{word}' is not a value of {_what(enum)}{hint}")
        if a.kind == "text" and b.kind == "text":
            raise TypeProblem(at, "comparing two text values is always the same; compare a fact")
        return ir.compare(op, a.term, b.term)

    def one_currency(self, a: Typed, b: Typed, at: int) -> str | None:
        found = a.currencies | b.currencies
        if len(found) > 1:
            raise TypeProblem(at, f"cannot combine {' and '.join(sorted(found))} in one comparison")
        return next(iter(found), None)

    def value(self, node: n.Node) -> Typed:
        if isinstance(node, n.IntLit):
            if node.value > MAX_MAGNITUDE:
                raise TypeProblem(node.offset, f"{node.value} is too large")
            return Typed(ir.Value(node.value), "int", bound=node.value)
        if isinstance(node, n.MoneyLit):
            return self.money(node)
        if isinstance(node, n.StrLit):
            return Typed(ir.Value(node.value), "text")
        if isinstance(node, n.BoolLit):
            return Typed(ir.Value(node.value), "bool")
        if isinstance(node, n.Name):
            return self.name(node)
        if isinstance(node, n.Neg):
            inner = self.value(node.operand)
            self.numeric(inner, node.offset, "'-'")
            if isinstance(inner.term, ir.Value) and isinstance(inner.term.value, int):
                return Typed(ir.Value(-inner.term.value), inner.kind, (), inner.currencies, inner.bound)
            return Typed(ir.Calc("*", inner.term, ir.Value(-1)), inner.kind, (), inner.currencies, inner.bound)
        if isinstance(node, n.Arith):
            return self.arith(node)
        raise TypeProblem(node.offset, "a condition cannot be used as a value here")

    def money(self, node: n.MoneyLit) -> Typed:
        code = node.currency.upper()
        if node.currency != code or code not in CURRENCY_EXPONENTS:
            hint = did_you_mean(code, list(CURRENCY_EXPONENTS)) if code not in CURRENCY_EXPONENTS else ""
            raise TypeProblem(node.offset, f"unknown currency '{node.currency}' (an ISO 4217 code in capitals){hint}")
        try:
            minor = to_minor(node.amount, code)
        except ValidationFailed as exc:
            raise TypeProblem(node.offset, exc.message) from None
        if minor > MAX_MAGNITUDE:
            raise TypeProblem(node.offset, f"{node.amount} {code} is too large")
        return Typed(ir.Value(minor), "money", currencies=frozenset({code}), bound=minor)

    def name(self, node: n.Name) -> Typed:
        fact = FACTS.get(node.name)
        if fact is None:
            hint = did_you_mean(node.name, list(FACTS))
            if any(node.name in f.values for f in FACTS.values()):
                hint = f'; to mean the value, write it in quotes: "{node.name}"'
            raise TypeProblem(node.offset, f"unknown fact '{node.name}'{hint}")
        refusal = self.allowed(node.name)
        if refusal:
            raise TypeProblem(node.offset, refusal)
        return Typed(ir.FactRef(node.name), fact.kind.value, fact.values if fact.kind is Kind.ENUM else ())

    def numeric(self, t: Typed, at: int, what: str) -> None:
        if t.kind not in ("int", "money"):
            raise TypeProblem(at, f"{what} needs numbers or money, not {_what(t)}")

    def arith(self, node: n.Arith) -> Typed:
        a, b = self.value(node.left), self.value(node.right)
        self.numeric(a, node.offset, f"'{node.op}'")
        self.numeric(b, node.offset, f"'{node.op}'")
        if node.op == "*":
            if a.kind == "money" and b.kind == "money":
                raise TypeProblem(node.offset, "money cannot be multiplied by money")
            kind, bound = ("money" if "money" in (a.kind, b.kind) else "int"), a.bound * b.bound
        else:
            if a.kind != b.kind and not (a.zero or b.zero):
                raise TypeProblem(
                    node.offset,
                    f"cannot {'add' if node.op == '+' else 'subtract'} money and a "
                    "plain number; write the amount with a currency, e.g. 50 EUR",
                )
            kind, bound = ("money" if "money" in (a.kind, b.kind) else "int"), a.bound + b.bound
        if bound > MAX_RESULT:
            raise TypeProblem(node.offset, "this arithmetic could overflow; multiply a fact only by a plain number")
        currencies = a.currencies | b.currencies
        if len(currencies) > 1:
            raise TypeProblem(node.offset, f"cannot combine {' and '.join(sorted(currencies))}")
        if isinstance(a.term, ir.Value) and isinstance(b.term, ir.Value):
            assert isinstance(a.term.value, int) and isinstance(b.term.value, int)
            term: ir.Term = ir.Value(ir.calc(node.op, a.term.value, b.term.value))
        else:
            term = ir.Calc(node.op, a.term, b.term)
        return Typed(term, kind, (), currencies, bound)


def _what(t: Typed) -> str:
    if isinstance(t.term, ir.FactRef):
        return f"'{t.term.name}' ({FACTS[t.term.name].kind.value})"
    if t.kind == "text":
        return "a text value"
    return {"int": "a number", "money": "money", "bool": "a yes/no value", "enum": "a text value"}[t.kind]
