"""`invoice(id)` and `invoices(filter, orderBy, first, after)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries import invoices as q
from schema.common.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    connection,
)
from schema.context import Info
from schema.ids import parse_id
from schema.invoices.types import Invoice, InvoiceFilter, InvoiceOrder
from schema.permissions import CanRead


def to_query_filter(flt: InvoiceFilter | None) -> q.InvoiceFilter:
    if flt is None:
        return q.InvoiceFilter()
    return q.InvoiceFilter(
        states=tuple(s.value for s in flt.state or ()),
        customer_id=parse_id(flt.customer_id, "customerId") if flt.customer_id is not None else None,
        segments=tuple(flt.segment or ()),
        risks=tuple(flt.risk or ()),
        min_days_past_due=flt.min_days_past_due,
        max_days_past_due=flt.max_days_past_due,
        currency=flt.currency,
        number=flt.number,
    )


@strawberry.type
class InvoiceQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def invoice(self, info: Info, id: strawberry.ID) -> Invoice | None:
        view = await info.context.loaders.invoice.load(parse_id(id))
        return Invoice.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead])
    async def invoices(
        self,
        info: Info,
        filter: InvoiceFilter | None = None,
        order_by: InvoiceOrder = InvoiceOrder.DUE_DATE_ASC,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Invoice]:
        ctx = info.context
        flt, today = to_query_filter(filter), ctx.today()
        page = await ctx.run(q.list_invoices, ctx.store, flt, order_by.value, first, after, today)

        async def count() -> int:
            return await ctx.run(q.count_invoices, ctx.store, flt, today)

        return connection(page, Invoice.of, count, after)
