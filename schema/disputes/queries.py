"""`dispute(id)` and `disputes(filter, orderBy, first, after)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries import disputes as q
from schema.common.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    connection,
)
from schema.context import Info
from schema.disputes.types import Dispute, DisputeFilter, DisputeOrder
from schema.ids import parse_id
from schema.permissions import CanRead


def to_query_filter(flt: DisputeFilter | None) -> q.DisputeFilter:
    if flt is None:
        return q.DisputeFilter()
    return q.DisputeFilter(
        states=tuple(s.value for s in flt.state or ()),
        customer_id=parse_id(flt.customer_id, "customerId") if flt.customer_id is not None else None,
        invoice_id=parse_id(flt.invoice_id, "invoiceId") if flt.invoice_id is not None else None,
        reason_codes=tuple(r.value for r in flt.reason or ()),
    )


@strawberry.type
class DisputeQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def dispute(self, info: Info, id: strawberry.ID) -> Dispute | None:
        view = await info.context.loaders.dispute.load(parse_id(id))
        return Dispute.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead])
    async def disputes(
        self,
        info: Info,
        filter: DisputeFilter | None = None,
        order_by: DisputeOrder = DisputeOrder.OPENED_AT_DESC,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Dispute]:
        ctx = info.context
        flt = to_query_filter(filter)
        page = await ctx.run(q.list_disputes, ctx.store, flt, order_by.value, first, after)

        async def count() -> int:
            return await ctx.run(q.count_disputes, ctx.store, flt)

        return connection(page, Dispute.of, count, after)
