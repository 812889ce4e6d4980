"""`experiment(name)`: each arm of a champion/challenger experiment, as front ends see it."""

from __future__ import annotations

import strawberry

from engine.lab.experiment import Arm, Cash, Comparison, ExperimentReport
from schema.common.money import Money


@strawberry.type(description="A challenger's mean minus the champion's, with a 95% confidence interval.")
class VersusChampion:
    difference: float
    low: float | None = strawberry.field(description="Null with fewer than two observations on a side.")
    high: float | None

    @staticmethod
    def of(c: Comparison | None) -> VersusChampion | None:
        return VersusChampion(difference=c.difference, low=c.low, high=c.high) if c else None


@strawberry.type(description="Cash collected in one currency (payments received in the period).")
class ArmCash:
    collected: Money
    customers: int = strawberry.field(description="The arm's customers invoiced in this currency.")
    per_customer_minor: float = strawberry.field(description="Mean per customer, in minor units.")
    vs_champion: VersusChampion | None = strawberry.field(description="Per customer, in minor units.")

    @staticmethod
    def of(c: Cash) -> ArmCash:
        return ArmCash(
            collected=Money.of(c.collected, c.currency),
            customers=c.customers,
            per_customer_minor=c.per_customer,
            vs_champion=VersusChampion.of(c.vs_champion),
        )


@strawberry.type(description="One arm: holdout, a challenger, or the champion.")
class ExperimentArm:
    name: str
    customers: int
    cash: list[ArmCash]
    invoices_paid: int
    days_to_pay: float | None = strawberry.field(description="Mean paid date − due date of invoices paid.")
    days_to_pay_vs_champion: VersusChampion | None
    messages: int = strawberry.field(description="Distinct (customer, channel, day) notices in the period.")
    messages_per_customer: float
    messages_vs_champion: VersusChampion | None

    @staticmethod
    def of(a: Arm) -> ExperimentArm:
        return ExperimentArm(
            name=a.name,
            customers=a.customers,
            cash=[ArmCash.of(c) for c in a.cash],
            invoices_paid=a.invoices_paid,
            days_to_pay=a.days_to_pay,
            days_to_pay_vs_champion=VersusChampion.of(a.days_to_pay_vs_champion),
            messages=a.messages,
            messages_per_customer=a.messages_per_customer,
            messages_vs_champion=VersusChampion.of(a.messages_vs_champion),
        )


@strawberry.type
class Experiment:
    name: str
    strategy: str
    since: str
    until: str
    arms: list[ExperimentArm]

    @staticmethod
    def of(r: ExperimentReport) -> Experiment:
        return Experiment(
            name=r.experiment,
            strategy=r.strategy,
            since=r.since,
            until=r.until,
            arms=[ExperimentArm.of(a) for a in r.arms],
        )
