"""What-if: the strategies in force and a candidate set, planned on the same facts of one date.

The portfolio is loaded once; both sets are planned by the daily cycle's own planner (the numpy
evaluator, the contact cap, the invoice machine's checks), exactly as `o2c cycle --dry-run` plans
them, and the two plans are compared invoice by invoice and customer by customer. Nothing is
written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from engine.cycle import portfolio as pf
from engine.cycle.book import EVERYONE, Book, load_book
from engine.cycle.facts import Accounts
from engine.cycle.planner import Plan, plan_accounts, plan_invoices
from engine.cycle.writer import InvoicePlan
from engine.lab.messages import messages_per_customer
from engine.rules.directory import Loaded
from engine.rules.errors import StrategyError
from engine.rules.registry import StrategySet
from engine.store.database import Store


@dataclass(frozen=True)
class Treatment:
    """What one strategy set does to one invoice on the date (None in a diff: nothing)."""

    rules: tuple[str, ...]  # "strategy/rule" of every order carried out
    state: str  # the state after the day's transitions
    level: int
    transitions: tuple[str, ...]
    notice: tuple[str, str, str] | None  # kind, channel, template
    task: str | None  # the queues, comma-separated

    @staticmethod
    def of(plan: InvoicePlan) -> Treatment:
        notice = plan.notice
        return Treatment(
            tuple(plan.rules),
            plan.final_state,
            plan.final_level,
            tuple(c.trigger for c in plan.changes),
            (notice.kind, notice.channel, notice.template) if notice else None,
            ",".join(sorted(t.queue for t in plan.tasks)) or None,
        )

    def as_dict(self) -> dict[str, Any]:
        notice = self.notice
        return {
            "rules": list(self.rules),
            "state": self.state,
            "dunning_level": self.level,
            "transitions": list(self.transitions),
            "notice": {"kind": notice[0], "channel": notice[1], "template": notice[2]} if notice else None,
            "task": self.task,
        }


@dataclass(frozen=True)
class InvoiceChange:
    invoice_id: int
    customer_id: int
    segment: str
    risk: str
    before: Treatment | None
    after: Treatment | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "customer_id": self.customer_id,
            "segment": self.segment,
            "risk": self.risk,
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
        }


@dataclass(frozen=True)
class CustomerSide:
    """One customer under one strategy set: its account orders, messages and contact cap."""

    strategy: str
    orders: tuple[str, ...]  # "credit_hold overdue_30 by strategy/rule"
    notices: int
    messages: int
    recent_notices: int  # sent before the date, inside the strategy's contact window
    cap: int | None  # contact_cap.max (None: no cap)
    cap_days: int | None

    @property
    def at_cap(self) -> bool:
        return self.cap is not None and self.recent_notices + self.notices >= self.cap

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "orders": list(self.orders),
            "notices": self.notices,
            "messages": self.messages,
            "recent_notices": self.recent_notices,
            "contact_cap": None if self.cap is None else {"max": self.cap, "per_days": self.cap_days},
            "at_cap": self.at_cap,
        }


@dataclass(frozen=True)
class CustomerChange:
    customer_id: int
    segment: str
    risk: str
    before: CustomerSide
    after: CustomerSide

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "segment": self.segment,
            "risk": self.risk,
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "messages_change": self.after.messages - self.before.messages,
        }


@dataclass
class StrategyDiff:
    business_date: str
    invoices_evaluated: int = 0
    invoices: list[InvoiceChange] = field(default_factory=list)
    customers: list[CustomerChange] = field(default_factory=list)
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> before, after, change
    by_segment: dict[str, dict[str, int]] = field(default_factory=dict)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # notices, messages, ... -> before/after
    contact: dict[str, int] = field(default_factory=dict)  # messages per changed customer vs the contact cap

    def summary(self) -> dict[str, Any]:
        return {
            "business_date": self.business_date,
            "invoices_evaluated": self.invoices_evaluated,
            "invoices_changed": len(self.invoices),
            "customers_changed": len(self.customers),
            "by_rule": self.by_rule,
            "by_segment": self.by_segment,
            "by_channel": self.by_channel,
            "totals": self.totals,
            "contact": self.contact,
        }

    def as_dict(self) -> dict[str, Any]:
        return self.summary() | {
            "invoices": [c.as_dict() for c in self.invoices],
            "customers": [c.as_dict() for c in self.customers],
        }


def diff_strategies(store: Store, before: StrategySet, after: StrategySet, as_of: date) -> StrategyDiff:
    """Plan both sets on one load of the portfolio of `as_of` and compare the plans."""
    book = load_book(store, as_of, EVERYONE)
    caps = [c.strategy.settings.contact_cap for s in (before, after) for c in s.strategies]
    recent = pf.recent_notice_windows(store, as_of, {cap.per_days for cap in caps if cap})
    return compare(book, before, after, as_of, recent)


def plan_day(book: Book, strategies: StrategySet, as_of: date, recent: dict[int, dict[int, int]]) -> Plan:
    """The plan of a dry run of `as_of` (invoice rules, then account rules), written nowhere."""
    plan = Plan()
    plan_invoices(book.portfolio, book.accounts, strategies, recent, plan)
    plan_accounts(book.accounts, strategies, as_of, plan)
    return plan


def compare(
    book: Book, before: StrategySet, after: StrategySet, as_of: date, recent: dict[int, dict[int, int]]
) -> StrategyDiff:
    # Customers routed to the very same file (same content hash) in both sets are planned once: their
    # plan is the same under either set (the planner's groups are per segment × risk, and a customer's
    # contact cap only counts its own notices). Only the other customers are planned twice and compared.
    same = {
        pair
        for pair, c in before.routes.items()
        if getattr(after.routes.get(pair), "content_hash", None) == c.content_hash
    }
    shared_book, own_book = _split(book, same)
    shared = plan_day(shared_book, before, as_of, recent)
    plans = (plan_day(own_book, before, as_of, recent), plan_day(own_book, after, as_of, recent))
    found = StrategyDiff(as_of.isoformat(), len(book.portfolio))
    sides = [
        _Side.of(shared, plan, s, recent, found.business_date) for plan, s in zip(plans, (before, after), strict=True)
    ]
    _invoices(found, book, sides)
    _customers(found, book.accounts, sides)
    _totals(found, sides)
    return found


@dataclass
class _Side:
    treatments: dict[int, Treatment]
    orders: dict[int, list[str]]
    notices: Counter[int]
    messages: Counter[int]
    by_rule: Counter[str]
    by_channel: dict[str, Counter[str]]
    strategy_of: dict[tuple[str, str], tuple[str, int | None, int | None]]
    recent: dict[int, dict[int, int]]
    transitions: int
    tasks: int
    compared: set[int]  # customers of the plan compared (not shared by both sets)

    @staticmethod
    def of(shared: Plan, own: Plan, strategies: StrategySet, recent: dict[int, dict[int, int]], day: str) -> _Side:
        """Counts over both plans; treatments (compared invoice by invoice) of `own` only."""
        by_rule: Counter[str] = Counter()
        notices: Counter[int] = Counter()
        channels: dict[str, Counter[str]] = {}
        pairs: list[tuple[int, str, str]] = []
        treatments = {p.invoice_id: Treatment.of(p) for p in own.invoices}
        transitions = tasks = 0
        for p in shared.invoices + own.invoices:  # exactly what a dry run counts (engine.cycle.scope._count)
            by_rule.update(p.rules)
            transitions += len(p.changes)
            tasks += len(p.tasks)
            if p.notice is not None:
                notices[p.customer_id] += 1
                pairs.append((p.customer_id, p.notice.channel, day))
                channels.setdefault(p.notice.channel, Counter())["notices"] += 1
        for _customer, channel, _day in set(pairs):
            channels[channel]["messages"] += 1
        orders: dict[int, list[str]] = {}
        for order in shared.accounts + own.accounts:
            rule = f"{order.decision.strategy}/{order.decision.rule_id}"
            by_rule[rule] += 1
            orders.setdefault(order.customer_id, []).append(f"{order.kind} {order.reason} by {rule}")
        strategy_of: dict[tuple[str, str], tuple[str, int | None, int | None]] = {}
        for pair, compiled in strategies.routes.items():
            cap = compiled.strategy.settings.contact_cap
            strategy_of[pair] = (compiled.name, cap.max if cap else None, cap.per_days if cap else None)
        return _Side(
            treatments,
            orders,
            notices,
            messages_per_customer(pairs),
            by_rule,
            channels,
            strategy_of,
            recent,
            transitions,
            tasks,
            {p.customer_id for p in own.invoices} | {o.customer_id for o in own.accounts},
        )

    def customer(self, customer_id: int, segment: str, risk: str) -> CustomerSide:
        name, cap, days = self.strategy_of[(segment, risk)]
        sent = self.recent.get(days, {}).get(customer_id, 0) if days else 0
        return CustomerSide(
            name,
            tuple(self.orders.get(customer_id, ())),
            self.notices[customer_id],
            self.messages[customer_id],
            sent,
            cap,
            days,
        )


def _split(book: Book, same: set[tuple[str, str]]) -> tuple[Book, Book]:
    """The book of the customers routed to `same` pairs, and the book of the others."""

    def routed(segment: Any, risk: Any) -> Any:
        keys = np.char.add(np.char.add(segment, "|"), risk)
        return np.isin(keys, [f"{s}|{r}" for s, r in same]) if same else np.zeros(keys.size, dtype=bool)

    p, acc = book.portfolio, book.accounts
    rows, accounts = routed(p.segment, p.risk), routed(acc.segment, acc.risk)

    return (
        Book(p.take(rows), acc.take(accounts)),
        Book(p.take(~rows), acc.take(~accounts)),
    )


def _invoices(found: StrategyDiff, book: Book, sides: list[_Side]) -> None:
    before, after = sides
    p = book.portfolio
    row_of = {int(i): k for k, i in enumerate(p.invoice_id.tolist())}
    segments: dict[str, Counter[str]] = {}
    for invoice_id in sorted(before.treatments.keys() | after.treatments.keys()):
        was, now = before.treatments.get(invoice_id), after.treatments.get(invoice_id)
        if was == now:
            continue
        row = row_of[invoice_id]
        segment = str(p.segment[row])
        found.invoices.append(InvoiceChange(invoice_id, int(p.customer_id[row]), segment, str(p.risk[row]), was, now))
        segments.setdefault(segment, Counter())["invoices_changed"] += 1
    found.by_segment = {s: dict(c) for s, c in sorted(segments.items())}


def _customers(found: StrategyDiff, acc: Accounts, sides: list[_Side]) -> None:
    before, after = sides
    touched = before.compared | after.compared  # the customers of the shared plan are treated alike
    index = {int(c): k for k, c in enumerate(acc.customer_id.tolist())}
    for customer_id in sorted(touched):
        k = index[customer_id]
        segment, risk = str(acc.segment[k]), str(acc.risk[k])
        was, now = before.customer(customer_id, segment, risk), after.customer(customer_id, segment, risk)
        if was.orders == now.orders and was.messages == now.messages and was.notices == now.notices:
            continue
        found.customers.append(CustomerChange(customer_id, segment, risk, was, now))
        found.by_segment.setdefault(segment, {}).setdefault("customers_changed", 0)
        found.by_segment[segment]["customers_changed"] += 1
    for counted in found.by_segment.values():
        counted.setdefault("invoices_changed", 0)
        counted.setdefault("customers_changed", 0)


def _before_after(was: int, now: int) -> dict[str, int]:
    return {"before": was, "after": now, "change": now - was}


def _totals(found: StrategyDiff, sides: list[_Side]) -> None:
    before, after = sides
    found.by_rule = {
        rule: _before_after(before.by_rule[rule], after.by_rule[rule])
        for rule in sorted(before.by_rule.keys() | after.by_rule.keys())
    }
    channels = sorted(before.by_channel.keys() | after.by_channel.keys())
    found.by_channel = {}
    for channel in channels:
        was, now = before.by_channel.get(channel, Counter()), after.by_channel.get(channel, Counter())
        found.by_channel[channel] = {
            "notices_before": was["notices"],
            "notices_after": now["notices"],
            "messages_before": was["messages"],
            "messages_after": now["messages"],
        }
    found.totals = {
        "transitions": _before_after(before.transitions, after.transitions),
        "notices": _before_after(sum(before.notices.values()), sum(after.notices.values())),
        "messages": _before_after(sum(before.messages.values()), sum(after.messages.values())),
        "customers_messaged": _before_after(len(before.messages), len(after.messages)),
        "tasks": _before_after(before.tasks, after.tasks),
        "account_orders": _before_after(
            sum(len(v) for v in before.orders.values()), sum(len(v) for v in after.orders.values())
        ),
    }
    changed = found.customers
    found.contact = {
        "customers_with_more_messages": sum(c.after.messages > c.before.messages for c in changed),
        "customers_with_fewer_messages": sum(c.after.messages < c.before.messages for c in changed),
        "most_messages_before": max((c.before.messages for c in changed), default=0),
        "most_messages_after": max((c.after.messages for c in changed), default=0),
        "at_contact_cap_before": sum(c.before.at_cap for c in changed),
        "at_contact_cap_after": sum(c.after.at_cap for c in changed),
    }


def candidate_set(loaded: Loaded, where: str) -> StrategySet:
    """A candidate set to compare (never registered, never put in force); refused with every
    problem (`FILE:LINE:COL: message`) when a reload of it would be refused."""
    if not loaded.ok:
        raise StrategyError(list(loaded.problems))
    return StrategySet(loaded.strategies, where, datetime.now(UTC))
