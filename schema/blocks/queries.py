"""`dunningBlocks(customerId, invoiceId, activeOnly)`."""

from __future__ import annotations

import strawberry

from schema.blocks.types import DunningBlock
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanRead


@strawberry.type
class BlockQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="A customer's dunning blocks (with invoiceId: that invoice's and the customer's), newest first.",
    )
    async def dunning_blocks(
        self, info: Info, customer_id: strawberry.ID, invoice_id: strawberry.ID | None = None, active_only: bool = True
    ) -> list[DunningBlock]:
        ctx = info.context
        cid = parse_id(customer_id, "customerId")
        iid = parse_id(invoice_id, "invoiceId") if invoice_id is not None else None
        return [DunningBlock.of(b) for b in await ctx.run(ctx.service.blocks_of, cid, iid, active_only)]
