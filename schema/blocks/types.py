"""The DunningBlock type and its reasons."""

from datetime import date, datetime
from enum import Enum

import strawberry

from engine.blocks.views import BlockView
from schema.context import Info
from schema.history.types import Transition, check_last
from schema.ids import to_id


@strawberry.enum(description="Why dunning stops.")
class BlockReason(Enum):
    CUSTOMER_REQUEST = "customer_request"
    NEGOTIATION = "negotiation"
    PAYMENT_PLAN = "payment_plan"
    LEGAL = "legal"
    INSOLVENCY = "insolvency"
    INTERNAL_REVIEW = "internal_review"
    DATA_ISSUE = "data_issue"
    OTHER = "other"


@strawberry.enum
class BlockStatus(Enum):
    ACTIVE = "active"
    LIFTED = "lifted"
    EXPIRED = "expired"


@strawberry.type(
    description="No reminder, notice or escalation for a customer (invoiceId null) or one invoice, "
    "from startsOn through endsOn (null: until lifted)."
)
class DunningBlock:
    id: strawberry.ID
    customer_id: strawberry.ID
    invoice_id: strawberry.ID | None
    reason_code: BlockReason
    note: str | None
    starts_on: date
    ends_on: date | None
    status: BlockStatus
    placed_by: str
    placed_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    version: int
    view: strawberry.Private[BlockView]

    @staticmethod
    def of(b: BlockView) -> "DunningBlock":
        return DunningBlock(
            id=to_id(b.id),
            customer_id=to_id(b.customer_id),
            invoice_id=to_id(b.invoice_id) if b.invoice_id is not None else None,
            reason_code=BlockReason(b.reason_code),
            note=b.note,
            starts_on=b.starts_on,
            ends_on=b.ends_on,
            status=BlockStatus(b.status),
            placed_by=b.placed_by,
            placed_at=b.placed_at,
            ended_at=b.ended_at,
            ended_by=b.ended_by,
            end_reason=b.end_reason,
            version=b.version,
            view=b,
        )

    @strawberry.field(description="True when it blocks dunning on today's business date.")
    def in_force(self, info: Info) -> bool:
        return self.view.in_force(info.context.today())

    @strawberry.field(description="The last `last` transitions, oldest first.")
    async def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("dunning_block", check_last(last))
        return [Transition.of(t) for t in await loader.load(self.view.id)]
