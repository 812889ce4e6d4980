"""A validated strategy file as plain data. Built only by `loader`; never holds invalid content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from engine.rules import ir
from engine.rules.actions import Action
from engine.rules.errors import Loc

# A fact value as the rules see it: int (days, levels, minor units of money), bool or text.
FactValue = int | bool | str


@dataclass(frozen=True)
class ContactCap:
    max: int
    per_days: int


# The cap of a strategy that sets none (docs/strategies.md): messages, not invoices — with
# consolidation one message lists all of a customer's invoices of the day and channel.
DEFAULT_CONTACT_CAP = ContactCap(max=3, per_days=7)
CONSOLIDATE = ("customer", "per_invoice")


@dataclass(frozen=True)
class SendWindow:
    """The local hours, on the customer's business days, in which its messages go out:
    from `start` (inclusive) to `end` (exclusive), in the customer's time zone."""

    start: time
    end: time


# The window of a strategy that sets none (docs/strategies.md, docs/notices.md).
DEFAULT_SEND_WINDOW = SendWindow(time(8, 0), time(18, 0))


@dataclass(frozen=True)
class StrategySettings:
    grace_days: int
    min_amount: Mapping[str, int]  # currency -> minor units
    max_dunning_level: int
    contact_cap: ContactCap | None
    consolidate: str = "customer"  # one message per customer, date and channel | per_invoice
    send_window: SendWindow = DEFAULT_SEND_WINDOW


@dataclass(frozen=True)
class Rule:
    id: str
    index: int  # position in the file (0-based); the order of the hit policy
    description: str
    when_text: str
    when: ir.Cond
    actions: tuple[Action, ...]
    track: str
    loc: Loc  # where `- id:` is
    when_loc: Loc
    action_locs: tuple[Loc, ...]

    @property
    def scope(self) -> str:
        return "account" if self.track == "account" else "invoice"


@dataclass(frozen=True)
class Expectation:
    """One embedded test: given facts, these rule ids fire (and, optionally, these actions)."""

    name: str
    given: Mapping[str, FactValue]  # as written, money already minor units
    given_currency: str | None  # the currency of money values in `given`, if any
    expect: tuple[str, ...]
    expect_actions: tuple[Action, ...] | None  # params may be partial: only those written are compared
    loc: Loc


@dataclass(frozen=True)
class Variant:
    """A challenger: the champion's rules with some replaced (same id, same position)."""

    name: str
    weight: int  # percent of all the strategy's customers
    rules: tuple[Rule, ...]  # the replacements


@dataclass(frozen=True)
class Experiment:
    """Champion/challenger: customers are assigned to an arm by a hash of (experiment, customer).
    `holdout` percent stay on the champion's rules, out of the comparison; each variant takes its
    weight in percent; the champion takes the rest."""

    name: str
    holdout: int
    variants: tuple[Variant, ...]
    loc: Loc = field(compare=False)


@dataclass(frozen=True)
class Strategy:
    name: str
    version: int
    description: str
    segments: tuple[str, ...]
    risks: tuple[str, ...]
    settings: StrategySettings
    rules: tuple[Rule, ...]
    tests: tuple[Expectation, ...]
    file: str
    content_hash: str  # sha256 of the file's bytes
    loc: Loc = field(compare=False)
    applies_loc: Loc = field(compare=False)
    experiment: Experiment | None = None
    variant: str = ""  # the arm of `experiment` this copy is ("": the strategy as written)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(s, r) for s in self.segments for r in self.risks]

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)
