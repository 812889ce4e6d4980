"""`placeDunningBlock`, `liftDunningBlock` (collectors)."""

from __future__ import annotations

from datetime import date

import strawberry

from engine import commands as c
from schema.blocks.types import BlockReason, DunningBlock
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanCollect


@strawberry.input
class PlaceDunningBlockInput:
    customer_id: strawberry.ID
    reason_code: BlockReason
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null: every invoice of the customer."
    )
    ends_on: date | None = strawberry.field(default=None, description="Last blocked day; null: until lifted.")
    note: str | None = None


@strawberry.type
class BlockMutations:
    @strawberry.mutation(permission_classes=[CanCollect])
    async def place_dunning_block(self, info: Info, input: PlaceDunningBlockInput) -> DunningBlock:
        cid = parse_id(input.customer_id, "customerId")
        iid = parse_id(input.invoice_id, "invoiceId") if input.invoice_id is not None else None
        view = await perform(info, c.PlaceBlock(cid, input.reason_code.value, iid, input.ends_on, input.note))
        return DunningBlock.of(view)

    @strawberry.mutation(permission_classes=[CanCollect], description="Lift an active block, with a reason.")
    async def lift_dunning_block(self, info: Info, block_id: strawberry.ID, reason: str) -> DunningBlock:
        view = await perform(info, c.LiftBlock(parse_id(block_id, "blockId"), reason))
        return DunningBlock.of(view)
