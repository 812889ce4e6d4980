"""`customer(id)` and `customers(filter, orderBy, first, after)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries import customers as q
from schema.common.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    connection,
)
from schema.context import Info
from schema.customers.types import Customer, CustomerFilter, CustomerOrder
from schema.ids import parse_id
from schema.permissions import CanRead


def to_query_filter(flt: CustomerFilter | None) -> q.CustomerFilter:
    if flt is None:
        return q.CustomerFilter()
    return q.CustomerFilter(
        segments=tuple(flt.segment or ()),
        risks=tuple(flt.risk or ()),
        states=tuple(s.value for s in flt.state or ()),
        search=flt.search,
    )


@strawberry.type
class CustomerQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        view = await info.context.loaders.customer.load(parse_id(id))
        return Customer.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead])
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder = CustomerOrder.NAME_ASC,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Customer]:
        ctx = info.context
        flt = to_query_filter(filter)
        page = await ctx.run(q.list_customers, ctx.store, flt, order_by.value, first, after)

        async def count() -> int:
            return await ctx.run(q.count_customers, ctx.store, flt)

        return connection(page, Customer.of, count, after)
