"""`kpiHistory`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from engine.kpi_history import history
from schema.context import Info
from schema.kpis.types import KpiDimension, KpiPoint
from schema.permissions import CanRead


@strawberry.type
class KpiQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The daily KPI snapshots of a period (taken by the scheduler, `o2c kpis snapshot`), "
        "for everyone or broken down by segment, strategy or collector; oldest first.",
    )
    async def kpi_history(
        self,
        info: Info,
        currency: str,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date | None = None,
        by: KpiDimension = KpiDimension.ALL,
    ) -> list[KpiPoint]:
        ctx = info.context
        found = await ctx.run(history, ctx.store, currency, from_, to or ctx.today(), by.value)
        return [KpiPoint.of(s) for s in found]
