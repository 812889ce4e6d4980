"""`collectors`, `agenda(collectorId, date, first, after)`, `collectorFigures(collectorId, since, until)`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import strawberry

from engine.queries import batches
from engine.queries.agenda import AgendaRow as RowView
from engine.queries.agenda import agenda
from engine.queries.collector_figures import collector_figures
from engine.store.database import Store
from schema.collectors.types import AgendaRow, Collector, CollectorFigures
from schema.common.pagination import AFTER_DESCRIPTION, FIRST_DESCRIPTION, Connection, connection
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanRead
from states.errors import ValidationFailed

AGENDA_PAGE = 50


def _relations(store: Store, rows: list[RowView]) -> dict[str, Mapping[int, Any]]:
    """The statements the row resolvers' loaders would issue, keyed as they key them."""
    customer_ids = [r.customer_id for r in rows]
    invoice_ids = [i for r in rows for i in r.invoice_ids]
    dispute_ids = [d for r in rows for d in r.dispute_ids]
    customers = batches.customers_by_ids(store, customer_ids)
    invoices = batches.invoices_by_ids(store, invoice_ids) if invoice_ids else {}
    disputes = batches.disputes_by_ids(store, dispute_ids) if dispute_ids else {}
    promises = batches.promises_by_customer_ids(store, customer_ids)
    return {
        "customers": {c: customers.get(c) for c in customer_ids},
        "invoices": {i: invoices.get(i) for i in invoice_ids},
        "disputes": {d: disputes.get(d) for d in dispute_ids},
        "promises": {c: list(promises.get(c, [])) for c in customer_ids},
    }


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
