"""`notice(id)`, `notices(filter, first, after)`, `previewNotice(...)` (renders, writes nothing)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries import notices as q
from engine.services.notices import preview_notice
from schema.common.pagination import AFTER_DESCRIPTION, DEFAULT_PAGE_SIZE, FIRST_DESCRIPTION, Connection, connection
from schema.context import Info
from schema.ids import parse_id
from schema.notices.types import Channel, Notice, NoticeFilter, RenderedContent
from schema.permissions import CanRead


def to_query_filter(flt: NoticeFilter | None) -> q.NoticeFilter:
    if flt is None:
        return q.NoticeFilter()
    return q.NoticeFilter(
        customer_id=parse_id(flt.customer_id, "customerId") if flt.customer_id is not None else None,
        invoice_id=parse_id(flt.invoice_id, "invoiceId") if flt.invoice_id is not None else None,
        channel=flt.channel.value if flt.channel else None,
        states=tuple(s.value for s in flt.status or ()),
        from_date=flt.from_,
        to_date=flt.to,
    )


@strawberry.type
class NoticeQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def notice(self, info: Info, id: strawberry.ID) -> Notice | None:
        view = await info.context.loaders.notice.load(parse_id(id))
        return Notice.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead], description="Messages to customers, newest first.")
    async def notices(
        self,
        info: Info,
        filter: NoticeFilter | None = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Notice]:
        ctx = info.context
        flt = to_query_filter(filter)
        page = await ctx.run(q.list_notices, ctx.store, flt, first, after)

        async def count() -> int:
            return await ctx.run(q.count_notices, ctx.store, flt)

        return connection(page, Notice.of, count, after)

    @strawberry.field(
        permission_classes=[CanRead],
        description="A template rendered for the customer's open invoices as they stand; writes nothing.",
    )
    async def preview_notice(
        self, info: Info, customer_id: strawberry.ID, template: str, channel: Channel, language: str | None = None
    ) -> RenderedContent:
        ctx = info.context
        rendered = await ctx.run(
            preview_notice, ctx.engine, parse_id(customer_id, "customerId"), template, channel.value, language
        )
        return RenderedContent.of(rendered)
