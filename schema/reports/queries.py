"""`worklist`, `agingReport`, `kpis`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from engine.queries import reports, worklist
from schema.common.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    connection,
    fixed_count,
)
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanRead
from schema.reports.types import AgingReport, Kpi, WorklistItem


@strawberry.type
class ReportQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Past-due work ordered by open amount × probability of late payment × urgency.",
    )
    async def worklist(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        currency: str | None = None,
        collector_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this collector's portfolio.")
        ] = None,
    ) -> Connection[WorklistItem]:
        ctx = info.context
        mine = parse_id(collector_id, "collectorId") if collector_id is not None else None
        page, total = await ctx.run(worklist.worklist_page, ctx.store, ctx.today(), first, after, currency, mine)
        return connection(page, WorklistItem.of, fixed_count(total), after)

    @strawberry.field(permission_classes=[CanRead])
    async def aging_report(
        self, info: Info, currency: str, as_of: date | None = None, segment: str | None = None
    ) -> AgingReport:
        ctx = info.context
        day = as_of or ctx.today()
        aging = await ctx.run(reports.aging_report, ctx.store, ctx.engine.clock.zone, day, currency, segment)
        return AgingReport.of(aging)

    @strawberry.field(permission_classes=[CanRead])
    async def kpis(
        self,
        info: Info,
        currency: str,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date | None = None,
    ) -> Kpi:
        ctx = info.context
        end = to or ctx.today()
        found = await ctx.run(reports.kpis, ctx.store, ctx.engine.clock.zone, from_, end, currency)
        return Kpi.of(found)
