"""What one run of the daily cycle did (or, dry, would do)."""

from __future__ import annotations

from datetime import date

import strawberry

from engine.cycle.runner import CycleReport as EngineReport


@strawberry.type
class RuleCount:
    rule: str = strawberry.field(description="strategy/rule id")
    count: int


@strawberry.type(description="One run of the daily cycle for one business date.")
class CycleReport:
    business_date: date
    dry_run: bool = strawberry.field(description="True: computed only, nothing was written.")
    already_done: bool = strawberry.field(description="The date had already run: nothing new was applied.")
    invoices_evaluated: int
    applied: int = strawberry.field(description="Transitions applied (would be applied, when dry).")
    notices: int
    tasks: int
    holds_placed: int
    holds_released: int
    conflicts: int = strawberry.field(description="Invoices changed concurrently and re-planned.")
    refused: int = strawberry.field(description="Decisions the machines' guards refused.")
    by_rule: list[RuleCount]
    wall_s: float = strawberry.field(name="wallS", description="Wall time of the run in seconds.")

    @staticmethod
    def of(report: EngineReport) -> CycleReport:
        return CycleReport(
            business_date=date.fromisoformat(report.business_date),
            dry_run=report.dry_run,
            already_done=report.already_done,
            invoices_evaluated=report.invoices_evaluated,
            applied=report.applied,
            notices=report.notices,
            tasks=report.tasks,
            holds_placed=report.holds_placed,
            holds_released=report.holds_released,
            conflicts=report.conflicts,
            refused=report.refused,
            by_rule=[RuleCount(rule=k, count=v) for k, v in sorted(report.by_rule.items())],
            wall_s=report.wall_s,
        )
