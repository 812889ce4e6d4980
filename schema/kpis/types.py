"""The KPI history (engine/kpi_history) as GraphQL types."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from engine.kpi_history import Snapshot
from schema.common.money import Money


@strawberry.enum(description="How a KPI history is broken down.")
class KpiDimension(Enum):
    ALL = "all"
    SEGMENT = "segment"
    STRATEGY = "strategy"
    COLLECTOR = "collector"


@strawberry.type
class AmountBucket:
    key: str
    amount: Money


@strawberry.type(
    description="One business date's KPIs of one currency, for everyone or one segment, strategy or collector."
)
class KpiPoint:
    business_date: date
    key: str = strawberry.field(
        description='"all", a segment, a strategy name, or a collector\'s e-mail ("unassigned": in no portfolio).'
    )
    open_receivables: Money
    current_receivables: Money
    pct_current: float | None = strawberry.field(description="Current ÷ open receivables × 100.")
    aging: list[AmountBucket]
    countback_dso: float | None = strawberry.field(description="Open receivables counted back against monthly sales.")
    promise_kept_rate: float | None = strawberry.field(description="Kept ÷ decided promises of the last 90 days.")
    promises_kept: int
    promises_broken: int
    unapplied_cash: Money
    unapplied_aging: list[AmountBucket] = strawberry.field(description="Unapplied cash by days since received.")
    dispute_cycle_days: float | None = strawberry.field(description="Mean days to resolve, last 90 days.")
    disputes_resolved: int
    open_disputes: int

    @staticmethod
    def of(s: Snapshot) -> KpiPoint:
        f, cur = s.figures, s.currency

        def buckets(values: dict[str, int]) -> list[AmountBucket]:
            return [AmountBucket(key=k, amount=Money.of(int(v), cur)) for k, v in values.items()]

        return KpiPoint(
            business_date=s.business_date,
            key=s.key,
            open_receivables=Money.of(int(f["open_receivables"]), cur),
            current_receivables=Money.of(int(f["current_receivables"]), cur),
            pct_current=f["pct_current"],
            aging=buckets(f["aging"]),
            countback_dso=f["countback_dso"],
            promise_kept_rate=f["promise_kept_rate"],
            promises_kept=int(f["promises_kept"]),
            promises_broken=int(f["promises_broken"]),
            unapplied_cash=Money.of(int(f["unapplied_cash"]), cur),
            unapplied_aging=buckets(f["unapplied_aging"]),
            dispute_cycle_days=f["dispute_cycle_days"],
            disputes_resolved=int(f["disputes_resolved"]),
            open_disputes=int(f["open_disputes"]),
        )
