"""Write-off requests."""

from datetime import datetime
from enum import Enum

import strawberry

from engine.services.write_offs import WriteOffView
from schema.common.money import Money
from schema.context import Info
from schema.history.types import Transition, check_last
from schema.ids import to_id


@strawberry.enum
class WriteOffStatus(Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@strawberry.type(description="A write-off above the requester's limit, waiting for (or decided by) another person.")
class WriteOffRequest:
    id: strawberry.ID
    invoice_id: strawberry.ID
    customer_id: strawberry.ID
    amount: Money
    status: WriteOffStatus
    note: str | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    view: strawberry.Private[WriteOffView]

    @staticmethod
    def of(r: WriteOffView) -> "WriteOffRequest":
        return WriteOffRequest(
            id=to_id(r.id),
            invoice_id=to_id(r.invoice_id),
            customer_id=to_id(r.customer_id),
            amount=Money.of(r.amount, r.currency),
            status=WriteOffStatus(r.status),
            note=r.note,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            view=r,
        )

    @strawberry.field(description="The last `last` transitions, oldest first.")
    async def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("write_off", check_last(last))
        return [Transition.of(t) for t in await loader.load(self.view.id)]


@strawberry.type(description="Written off at once (within the caller's limit), or a request for an approver.")
class WriteOffResult:
    written_off: bool
    request: WriteOffRequest | None
