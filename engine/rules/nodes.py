"""The parsed expression tree. `offset` is the 0-based position in the expression text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    offset: int


@dataclass(frozen=True)
class IntLit(Node):
    value: int


@dataclass(frozen=True)
class MoneyLit(Node):
    amount: str  # the decimal text as written, e.g. "50.00"
    currency: str  # as written; checked by the type checker


@dataclass(frozen=True)
class StrLit(Node):
    value: str


@dataclass(frozen=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - *
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class InList(Node):
    item: Node
    choices: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # and | or
    operands: tuple[Node, ...]
