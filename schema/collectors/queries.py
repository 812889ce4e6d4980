"""`collectors`, `agenda(collectorId, date, first, after)`, `collectorFigures(collectorId, since, until)`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from engine.queries.agenda import agenda
from engine.queries.collector_figures import collector_figures
from schema.collectors.types import AgendaRow, Collector, CollectorFigures
from schema.common.pagination import AFTER_DESCRIPTION, FIRST_DESCRIPTION, Connection, connection
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanRead
from states.errors import ValidationFailed

AGENDA_PAGE = 50


@strawberry.type
class CollectorQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def collectors(self, info: Info) -> list[Collector]:
        ctx = info.context
        return [Collector.of(c) for c in await ctx.run(ctx.service.collectors)]

    @strawberry.field(
        permission_classes=[CanRead],
        description="A collector's customers for a date (default: today), one row each, by money at risk.",
    )
    async def agenda(
        self,
        info: Info,
        collector_id: strawberry.ID,
        date: date | None = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = AGENDA_PAGE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[AgendaRow]:
        ctx = info.context
        page = await ctx.run(
            agenda, ctx.store, parse_id(collector_id, "collectorId"), date or ctx.today(), first, after
        )

        async def no_count() -> int:
            raise ValidationFailed("the agenda is not counted; read it page by page (pageInfo)", "totalCount")

        return connection(page, AgendaRow.of, no_count, after)

    @strawberry.field(permission_classes=[CanRead])
    async def collector_figures(
        self, info: Info, collector_id: strawberry.ID, since: date, until: date
    ) -> CollectorFigures:
        ctx = info.context
        found = await ctx.run(collector_figures, ctx.store, parse_id(collector_id, "collectorId"), since, until)
        return CollectorFigures.of(found)
