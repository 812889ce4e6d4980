"""`experiment(name)`: how each arm of a champion/challenger experiment did over a period.

Customers are the strategy's (its segment × risk pairs), each in the arm the assignment puts it
in (deterministic, so the report needs no stored assignment). Per arm: customers, cash collected
(allocations of payments received in the period, per currency), days to pay (paid date − due date
of the invoices paid in the period), messages per customer (see `messages_per_customer`), and for
every challenger the difference of each mean to the champion's with a 95% confidence interval
(normal approximation with Welch's standard error: fine for the hundreds of customers an experiment
needs; with fewer than two observations on a side there is no interval)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from engine.cycle.book import _day_sql
from engine.cycle.portfolio import fetch_all
from engine.lab.messages import messages_per_customer
from engine.rules.compiler import CompiledStrategy
from engine.rules.experiment import arm_index
from engine.rules.registry import StrategySet
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.errors import NotFound

Z95 = 1.959964


@dataclass(frozen=True)
class Comparison:
    """A challenger's mean minus the champion's, with its 95% confidence interval."""

    difference: float
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"difference": self.difference, "low": self.low, "high": self.high}


@dataclass
class Cash:
    currency: str
    customers: int  # of the arm, invoiced in this currency
    collected: int  # minor units
    per_customer: float  # minor units
    vs_champion: Comparison | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {k: v for k, v in self.__dict__.items() if k != "vs_champion"}
        return found | {"vs_champion": self.vs_champion.as_dict() if self.vs_champion else None}


@dataclass
class Arm:
    name: str
    customers: int
    cash: list[Cash] = field(default_factory=list)
    invoices_paid: int = 0
    days_to_pay: float | None = None
    messages: int = 0
    messages_per_customer: float = 0.0
    days_to_pay_vs_champion: Comparison | None = None
    messages_vs_champion: Comparison | None = None
    cash_per_day: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> day -> minor units

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "customers": self.customers,
            "cash": [c.as_dict() for c in self.cash],
            "invoices_paid": self.invoices_paid,
            "days_to_pay": self.days_to_pay,
            "messages": self.messages,
            "messages_per_customer": self.messages_per_customer,
            "days_to_pay_vs_champion": _d(self.days_to_pay_vs_champion),
            "messages_vs_champion": _d(self.messages_vs_champion),
            "cash_per_day": self.cash_per_day,
        }


@dataclass
class ExperimentReport:
    experiment: str
    strategy: str
    since: str
    until: str
    arms: list[Arm]

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "strategy": self.strategy,
            "since": self.since,
            "until": self.until,
            "arms": [a.as_dict() for a in self.arms],
        }


def _d(c: Comparison | None) -> dict[str, Any] | None:
    return c.as_dict() if c else None


def find_experiment(strategies: StrategySet, name: str) -> CompiledStrategy:
    for compiled in strategies.strategies:
        if compiled.strategy.experiment and compiled.strategy.experiment.name == name:
            return compiled
    raise NotFound(f"no strategy in force runs the experiment '{name}'")


def compare(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> Comparison | None:
    """mean(a) − mean(b) with a 95% interval; None when a side has no observation."""
    if a.size == 0 or b.size == 0:
        return None
    difference = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return Comparison(round(difference, 3), None, None)
    se = math.sqrt(float(a.var(ddof=1)) / a.size + float(b.var(ddof=1)) / b.size)
    return Comparison(round(difference, 3), round(difference - Z95 * se, 3), round(difference + Z95 * se, 3))


def experiment_report(store: Store, strategies: StrategySet, name: str, since: date, until: date) -> ExperimentReport:
    compiled = find_experiment(strategies, name)
    pairs = set(compiled.strategy.pairs)
    period = {"since": since, "until": until}
    with UnitOfWork(store) as uow:
        customers = [
            (int(i), str(cur))
            for i, seg, risk, cur in fetch_all(
                uow, "SELECT id, segment, risk_class, currency FROM customer ORDER BY id"
            )
            if (str(seg), str(risk)) in pairs
        ]
        cash = uow.select(
            "SELECT p.customer, p.currency, p.received_on, SUM(a.amount) FROM allocation a "
            "JOIN payment p ON p.id = a.payment WHERE p.received_on >= $since AND p.received_on <= $until "
            "AND p.reversed_at IS NULL GROUP BY p.customer, p.currency, p.received_on",
            period,
        )
        delay = f"{_day_sql(store, 'paid_on')} - {_day_sql(store, 'due_date')}"
        paid = uow.select(
            f"SELECT customer, {delay} FROM invoice WHERE paid_on >= $since AND paid_on <= $until", period
        )
        sent = uow.select(
            "SELECT customer, channel, business_date FROM notice WHERE business_date >= $since "
            "AND business_date <= $until",
            period,
        )
    ids = np.asarray([c for c, _ in customers], dtype=np.int64)
    arm_of: dict[int, int] = dict(zip(ids.tolist(), arm_index(compiled, ids).tolist(), strict=True))
    currency_of = dict(customers)
    collected: dict[tuple[int, str], int] = defaultdict(int)
    daily: dict[tuple[int, str, str], int] = defaultdict(int)  # (arm, currency, day) -> minor units
    for c, cur, day, n in cash:
        collected[(int(c), str(cur))] += int(n)
        if int(c) in arm_of:
            daily[(arm_of[int(c)], str(cur), str(day)[:10])] += int(n)
    delays: dict[int, list[int]] = defaultdict(list)
    for c, days in paid:
        if int(c) in arm_of:
            delays[arm_of[int(c)]].append(int(days))
    messages = messages_per_customer((int(c), str(ch), str(d)[:10]) for c, ch, d in sent)
    arms = [
        _arm(arm.strategy.variant, k, arm_of, currency_of, collected, delays[k], messages)
        for k, arm in enumerate(compiled.arms)
    ]
    _against_champion(arms, arm_of, currency_of, collected, delays, messages)
    for (k, currency, day), n in sorted(daily.items()):
        arms[k].cash_per_day.setdefault(currency, {})[day] = n
    assert compiled.strategy.experiment is not None
    return ExperimentReport(
        compiled.strategy.experiment.name, compiled.name, since.isoformat(), until.isoformat(), arms
    )


def _members(k: int, arm_of: dict[int, int]) -> list[int]:
    return [c for c, a in arm_of.items() if a == k]


def _arm(
    name: str,
    k: int,
    arm_of: dict[int, int],
    currency_of: dict[int, str],
    collected: dict[tuple[int, str], int],
    delays: list[int],
    messages: Any,
) -> Arm:
    members = _members(k, arm_of)
    found = Arm(name, len(members), invoices_paid=len(delays))
    for currency in sorted({currency_of[c] for c in members}):
        of_currency = [c for c in members if currency_of[c] == currency]
        total = sum(collected.get((c, currency), 0) for c in of_currency)
        found.cash.append(Cash(currency, len(of_currency), total, round(total / len(of_currency), 2)))
    found.days_to_pay = round(float(np.mean(delays)), 3) if delays else None
    found.messages = sum(messages[c] for c in members)
    found.messages_per_customer = round(found.messages / len(members), 3) if members else 0.0
    return found


def _against_champion(
    arms: list[Arm],
    arm_of: dict[int, int],
    currency_of: dict[int, str],
    collected: dict[tuple[int, str], int],
    delays: dict[int, list[int]],
    messages: Any,
) -> None:
    champion = len(arms) - 1  # the champion is always the last arm

    def per_customer(k: int, currency: str) -> np.ndarray[Any, Any]:
        members = [c for c in _members(k, arm_of) if currency_of[c] == currency]
        return np.asarray([collected.get((c, currency), 0) for c in members], dtype=np.float64)

    def sent(k: int) -> np.ndarray[Any, Any]:
        return np.asarray([messages[c] for c in _members(k, arm_of)], dtype=np.float64)

    for k, arm in enumerate(arms[:-1]):
        for cash in arm.cash:
            cash.vs_champion = compare(per_customer(k, cash.currency), per_customer(champion, cash.currency))
        arm.days_to_pay_vs_champion = compare(
            np.asarray(delays[k], dtype=np.float64), np.asarray(delays[champion], dtype=np.float64)
        )
        arm.messages_vs_champion = compare(sent(k), sent(champion))
