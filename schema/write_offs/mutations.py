"""`writeOffInvoice`, `approveWriteOff`, `rejectWriteOff`, and `pendingWriteOffs`."""

from __future__ import annotations

import strawberry

from engine import commands as c
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanCollect, CanRead
from schema.write_offs.types import WriteOffRequest, WriteOffResult


def _role(info: Info) -> str:
    principal = info.context.principal
    return principal.role if principal is not None else ""


@strawberry.type
class WriteOffMutations:
    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Write off an escalated invoice: at once within your role's limit (policy/credit.yaml), "
        "otherwise as a request another person approves.",
    )
    async def write_off_invoice(self, info: Info, invoice_id: strawberry.ID, note: str) -> WriteOffResult:
        outcome = await perform(info, c.WriteOff(parse_id(invoice_id, "invoiceId"), _role(info), note))
        return WriteOffResult(
            written_off=outcome.written_off,
            request=WriteOffRequest.of(outcome.request) if outcome.request else None,
        )

    @strawberry.mutation(permission_classes=[CanCollect], description="Not by the requester; within your limit.")
    async def approve_write_off(
        self, info: Info, request_id: strawberry.ID, note: str | None = None
    ) -> WriteOffRequest:
        rid = parse_id(request_id, "requestId")
        view = await perform(info, c.DecideWriteOff(rid, True, _role(info), note))
        return WriteOffRequest.of(view)

    @strawberry.mutation(permission_classes=[CanCollect], description="With a reason.")
    async def reject_write_off(self, info: Info, request_id: strawberry.ID, reason: str) -> WriteOffRequest:
        rid = parse_id(request_id, "requestId")
        view = await perform(info, c.DecideWriteOff(rid, False, _role(info), reason))
        return WriteOffRequest.of(view)


@strawberry.type
class WriteOffQueries:
    @strawberry.field(permission_classes=[CanRead], description="Write-off requests waiting for an approver.")
    async def pending_write_offs(self, info: Info) -> list[WriteOffRequest]:
        ctx = info.context
        return [WriteOffRequest.of(r) for r in await ctx.run(ctx.service.pending_write_offs)]
