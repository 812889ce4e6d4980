"""Backtest: run the daily cycle day by day on a copy of the portfolio, customers paying as the
response model says, and measure what a strategy set does to cash, DSO, CEI and contact.

Each strategy set runs on its own fresh copy (`sandbox`) with the same seed, so two sets compare
side by side on identical customers and identical luck; the live database is only read. Per
simulated day: the payments the model plans for the day are applied through the service layer
(cash application as in production), then the real cycle of the day and its timers run, then
every notice of the day may bring its invoice's payment forward. No new invoices are issued (a
run-off of today's portfolio), so DSO uses the credit sales of the 90 days before the start."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from engine.clock import clock_for_date
from engine.commands import AllocationLine, RecordPayment
from engine.config import Settings
from engine.cycle.book import _day_sql
from engine.cycle.portfolio import _EPOCH, fetch_all
from engine.cycle.runner import run_cycle
from engine.lab.messages import messages_per_customer
from engine.lab.response import ResponseModel, learn_response
from engine.lab.sandbox import sandbox
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.timers import run_timers
from states import invoice as inv_states
from states.actors import Actor

SIMULATED = Actor("payment", "simulation")
SALES_DAYS = 90
Progress = Callable[[int, int], None]
_OPEN = ", ".join(f"'{s}'" for s in sorted(inv_states.COLLECTIBLE))


@dataclass
class Day:
    business_date: str
    cash: dict[str, int]  # currency -> minor units collected that day
    receivables: dict[str, int]  # open AR at the end of the day
    dso: dict[str, float | None]
    messages: int
    holds_placed: int
    escalations: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Outcome:
    """One strategy set over the horizon."""

    strategies: str
    days: list[Day] = field(default_factory=list)
    cash: dict[str, int] = field(default_factory=dict)
    dso_start: dict[str, float | None] = field(default_factory=dict)
    dso_end: dict[str, float | None] = field(default_factory=dict)
    cei: dict[str, float | None] = field(default_factory=dict)
    messages: int = 0
    customers: int = 0  # with an open invoice at the start
    messages_per_customer: float = 0.0
    holds_placed: int = 0
    escalations: int = 0
    response_model: str = ""  # which response model was used, in words
    learned_from: int = 0  # paid invoices the response model learned from
    notices_observed: int = 0  # past notices it learned the effect of reminders from
    reminder_reaction_share: float = 0.0  # of those, the share followed by payment within 14 days

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "days"} | {"days": [d.as_dict() for d in self.days]}


@dataclass
class Backtest:
    start: str
    days: int
    seed: int
    headline_currency: str
    outcomes: list[Outcome]

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "days": self.days,
            "seed": self.seed,
            "headline_currency": self.headline_currency,
            "outcomes": [o.as_dict() for o in self.outcomes],
        }


def backtest(
    live: Store,
    sets: list[tuple[str, StrategySet]],
    start: date,
    days: int,
    seed: int,
    progress: Progress | None = None,
    model: Callable[[Store], ResponseModel] = learn_response,
) -> Backtest:
    """Every set over `days` days from `start`, each on its own copy, with the same seed."""
    outcomes = []
    total, done = days * len(sets), 0
    for label, strategies in sets:

        def step(k: int, offset: int = done) -> None:
            if progress:
                progress(offset + k, total)

        outcomes.append(_run(live, label, strategies, start, days, seed, step, model))
        done += days
    first = outcomes[0].days[0].receivables if outcomes and outcomes[0].days else {}
    headline = max(first, key=lambda c: first[c]) if first else ""
    return Backtest(start.isoformat(), days, seed, headline, outcomes)


def _run(
    live: Store,
    label: str,
    strategies: StrategySet,
    start: date,
    days: int,
    seed: int,
    step: Callable[[int], None],
    model: Callable[[Store], ResponseModel],
) -> Outcome:
    rng = np.random.default_rng(seed)
    outcome = Outcome(label)
    with sandbox(live) as store:
        clock = clock_for_date(start)
        ctx = Context(store=store, clock=clock, settings=Settings(database_url=store.url))
        service = Collections(ctx)
        response = model(store)
        outcome.response_model = response.kind
        outcome.learned_from = int(getattr(response, "learned_from", 0))
        outcome.notices_observed = int(getattr(response, "notices_observed", 0))
        outcome.reminder_reaction_share = round(float(getattr(response, "reaction_share", 0.0)), 4)
        today = (start - _EPOCH).days
        invoices = _open_invoices(store)
        ids = np.asarray([r[0] for r in invoices], dtype=np.int64)
        owners = np.asarray([r[1] for r in invoices], dtype=np.int64)
        dues = np.asarray([r[2] for r in invoices], dtype=np.int64)
        pay_day = dict(zip(ids.tolist(), response.pay_days(owners, dues, today, rng, ids).tolist(), strict=True))
        outcome.customers = len(set(owners.tolist()))
        sales = _sales(store, start)
        begin = _receivables(store, start)
        outcome.dso_start = _dso(begin[0], sales)
        for k in range(1, days + 1):
            day = start + timedelta(days=k)
            clock.set(clock_for_date(day).now())
            cash = _pay(store, service, day, pay_day, today + k)
            report = run_cycle(ctx, strategies, day, render=False)  # the sandbox renders nothing
            run_timers(ctx, day)
            noticed, messages = _noticed(store, day)
            sooner = response.after_notice(len(noticed), today + k, rng)
            for invoice_id, when in zip(noticed, sooner.tolist(), strict=True):
                if invoice_id in pay_day:
                    pay_day[invoice_id] = min(pay_day[invoice_id], int(when))
            ar, _current = _receivables(store, day)
            escalations = _escalations(store, day)
            outcome.days.append(
                Day(day.isoformat(), cash, ar, _dso(ar, sales), messages, report.holds_placed, escalations)
            )
            step(k)
        end, end_current = _receivables(store, start + timedelta(days=days))
    _totals(outcome, begin[0], end, end_current)
    return outcome


def _open_invoices(store: Store) -> list[tuple[int, int, int]]:
    with UnitOfWork(store) as uow:
        found = fetch_all(
            uow, f"SELECT id, customer, {_day_sql(store, 'due_date')} FROM invoice WHERE state IN ({_OPEN}) ORDER BY id"
        )
    return [(int(i), int(c), int(d)) for i, c, d in found]


def _pay(store: Store, service: Collections, day: date, pay_day: dict[int, int], number: int) -> dict[str, int]:
    """Apply today's payments: one payment per customer and currency, paying its invoices in full."""
    due = sorted(i for i, d in pay_day.items() if d == number)
    cash: dict[str, int] = {}
    if not due:
        return cash
    marks = ",".join(str(i) for i in due)
    with UnitOfWork(store) as uow:
        rows = fetch_all(
            uow,
            f"SELECT id, customer, currency, open_amount FROM invoice WHERE id IN ({marks}) "
            f"AND state IN ({_OPEN}) AND state != 'disputed' AND open_amount > 0 ORDER BY id",
        )
    batches: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for invoice_id, customer, currency, amount in rows:
        batches[(int(customer), str(currency))].append((int(invoice_id), int(amount)))
    for (customer, currency), lines in sorted(batches.items()):
        amount = sum(a for _, a in lines)
        service.apply_payment(
            RecordPayment(
                customer,
                f"SIM-{day.isoformat()}-{customer}-{currency}",
                amount,
                currency,
                day,
                tuple(AllocationLine(a, invoice_id=i) for i, a in lines),
            ),
            SIMULATED,
        )
        cash[currency] = cash.get(currency, 0) + amount
    for invoice_id in due:
        pay_day.pop(invoice_id, None)
    return dict(sorted(cash.items()))


def _noticed(store: Store, day: date) -> tuple[list[int], int]:
    with UnitOfWork(store) as uow:
        rows = uow.select(
            "SELECT invoice, customer, channel FROM notice WHERE business_date = $d ORDER BY invoice", {"d": day}
        )
    messages = messages_per_customer((int(c), str(ch), day) for _, c, ch in rows)
    return sorted({int(i) for i, _, _ in rows}), sum(messages.values())


def _receivables(store: Store, day: date) -> tuple[dict[str, int], dict[str, int]]:
    """Open AR per currency, and the part not yet due (current AR), at `day`."""
    with UnitOfWork(store) as uow:
        rows = uow.select(
            f"SELECT currency, SUM(open_amount), SUM(CASE WHEN due_date >= $d THEN open_amount ELSE 0 END) "
            f"FROM invoice WHERE state IN ({_OPEN}) GROUP BY currency ORDER BY currency",
            {"d": day},
        )
    return {str(c): int(t or 0) for c, t, _ in rows}, {str(c): int(n or 0) for c, _, n in rows}


def _sales(store: Store, start: date) -> dict[str, int]:
    with UnitOfWork(store) as uow:
        rows = uow.select(
            "SELECT currency, SUM(amount) FROM invoice WHERE issue_date > $since AND issue_date <= $until "
            "AND state != 'cancelled' GROUP BY currency",
            {"since": start - timedelta(days=SALES_DAYS), "until": start},
        )
    return {str(c): int(t or 0) for c, t in rows}


def _dso(receivables: dict[str, int], sales: dict[str, int]) -> dict[str, float | None]:
    return {c: round(ar / sales[c] * SALES_DAYS, 2) if sales.get(c) else None for c, ar in receivables.items()}


def _escalations(store: Store, day: date) -> int:
    start = clock_for_date(day).now()
    with UnitOfWork(store) as uow:
        rows = uow.select(
            "SELECT COUNT(*) FROM transition_history WHERE entity_type = 'invoice' AND trigger = 'escalate' "
            "AND at >= $since AND at < $until",
            {"since": start, "until": start + timedelta(days=1)},
        )
    return int(rows[0] or 0)


def _totals(outcome: Outcome, begin: dict[str, int], end: dict[str, int], end_current: dict[str, int]) -> None:
    cash: Counter[str] = Counter()
    for d in outcome.days:
        cash.update(d.cash)
        outcome.messages += d.messages
        outcome.holds_placed += d.holds_placed
        outcome.escalations += d.escalations
    outcome.cash = dict(sorted(cash.items()))
    outcome.dso_end = outcome.days[-1].dso if outcome.days else dict(outcome.dso_start)
    for currency, ar in begin.items():
        # CEI with no credit sales in the period (a run-off): collected / collectible, in percent
        collectible = ar - end_current.get(currency, 0)
        outcome.cei[currency] = round((ar - end.get(currency, 0)) / collectible * 100, 2) if collectible > 0 else None
    outcome.messages_per_customer = round(outcome.messages / outcome.customers, 3) if outcome.customers else 0.0
