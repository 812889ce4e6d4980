"""A backtest started through the API (`startBacktest`, `backtest(id)`), as front ends see it.
Figures are in the headline currency (the one with the most receivables at the start)."""

from __future__ import annotations

import strawberry

from engine.lab.runs import Run
from engine.lab.simulate import Backtest, Day, Outcome
from schema.common.money import Money


@strawberry.type
class BacktestDay:
    business_date: str
    cash: Money
    dso: float | None
    messages: int
    holds_placed: int
    escalations: int

    @staticmethod
    def of(d: Day, currency: str) -> BacktestDay:
        return BacktestDay(
            business_date=d.business_date,
            cash=Money.of(d.cash.get(currency, 0), currency),
            dso=d.dso.get(currency),
            messages=d.messages,
            holds_placed=d.holds_placed,
            escalations=d.escalations,
        )


@strawberry.type(description="One strategy set over the horizon.")
class BacktestOutcome:
    strategies: str
    cash: list[Money] = strawberry.field(description="Collected over the horizon, per currency.")
    dso_start: float | None
    dso_end: float | None
    cei: float | None = strawberry.field(description="Collection effectiveness index over the horizon, percent.")
    messages: int
    customers: int
    messages_per_customer: float
    holds_placed: int
    escalations: int
    response_model: str = strawberry.field(
        description='The response model used: "payment prediction (model N)" when one is trained, '
        'else "observed delays".'
    )
    learned_from: int = strawberry.field(description="Paid invoices the response model learned from.")
    days: list[BacktestDay]

    @staticmethod
    def of(o: Outcome, currency: str) -> BacktestOutcome:
        return BacktestOutcome(
            strategies=o.strategies,
            cash=[Money.of(v, c) for c, v in o.cash.items()],
            dso_start=o.dso_start.get(currency),
            dso_end=o.dso_end.get(currency),
            cei=o.cei.get(currency),
            messages=o.messages,
            customers=o.customers,
            messages_per_customer=o.messages_per_customer,
            holds_placed=o.holds_placed,
            escalations=o.escalations,
            response_model=o.response_model,
            learned_from=o.learned_from,
            days=[BacktestDay.of(d, currency) for d in o.days],
        )


@strawberry.type
class BacktestResult:
    start: str
    days: int
    seed: int
    headline_currency: str
    outcomes: list[BacktestOutcome]

    @staticmethod
    def of(b: Backtest) -> BacktestResult:
        c = b.headline_currency
        return BacktestResult(
            start=b.start,
            days=b.days,
            seed=b.seed,
            headline_currency=c,
            outcomes=[BacktestOutcome.of(o, c) for o in b.outcomes],
        )


@strawberry.type(description="A backtest running in the background, or its result.")
class BacktestRun:
    id: strawberry.ID
    status: str = strawberry.field(description="running, done or failed")
    days_done: int = strawberry.field(description="Simulated days done, over every strategy set.")
    days_total: int
    progress: float = strawberry.field(description="0..1")
    error: str | None
    result: BacktestResult | None

    @staticmethod
    def of(run: Run) -> BacktestRun:
        return BacktestRun(
            id=strawberry.ID(run.id),
            status=run.status,
            days_done=run.done,
            days_total=run.total,
            progress=round(run.done / run.total, 4) if run.total else 0.0,
            error=run.error,
            result=BacktestResult.of(run.result) if run.result else None,
        )
