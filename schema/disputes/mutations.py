"""`openDispute`, `advanceDispute`, `resolveDispute` (collectors)."""

from __future__ import annotations

from enum import Enum

import strawberry

from engine import commands as c
from schema.common.mutation import perform
from schema.context import Info
from schema.disputes.types import Dispute, DisputeOutcome, DisputeReason
from schema.ids import parse_id
from schema.permissions import CanCollect
from states.errors import NotFound
from states.money import to_minor


@strawberry.input
class OpenDisputeInput:
    invoice_id: strawberry.ID
    reason_code: DisputeReason
    amount: str | None = strawberry.field(
        default=None, description="In the invoice's currency; default: the whole open amount."
    )
    description: str | None = None


@strawberry.enum(description="Steps of a dispute short of resolving it.")
class DisputeStep(Enum):
    REVIEW = "review"
    REQUEST_INFO = "request_info"
    CUSTOMER_REPLIED = "customer_replied"
    ESCALATE = "escalate"
    WITHDRAW = "withdraw"


@strawberry.input
class AdvanceDisputeInput:
    dispute_id: strawberry.ID
    step: DisputeStep
    note: str | None = None


@strawberry.input
class ResolveDisputeInput:
    dispute_id: strawberry.ID
    outcome: DisputeOutcome
    credit_amount: str | None = strawberry.field(
        default=None, description="Required for PARTIAL, in the invoice's currency."
    )
    note: str | None = None


async def _invoice_currency(info: Info, invoice_id: int) -> str:
    invoice = await info.context.loaders.invoice.load(invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    return invoice.currency


@strawberry.type
class DisputeMutations:
    @strawberry.mutation(permission_classes=[CanCollect])
    async def open_dispute(self, info: Info, input: OpenDisputeInput) -> Dispute:
        invoice_id = parse_id(input.invoice_id, "invoiceId")
        amount = None
        if input.amount is not None:
            amount = to_minor(input.amount, await _invoice_currency(info, invoice_id))
        cmd = c.OpenDispute(invoice_id, input.reason_code.value, amount, input.description)
        return Dispute.of(await perform(info, cmd))

    @strawberry.mutation(permission_classes=[CanCollect])
    async def advance_dispute(self, info: Info, input: AdvanceDisputeInput) -> Dispute:
        dispute_id = parse_id(input.dispute_id, "disputeId")
        view = await perform(info, c.AdvanceDispute(dispute_id, input.step.value, input.note))
        return Dispute.of(view)

    @strawberry.mutation(permission_classes=[CanCollect])
    async def resolve_dispute(self, info: Info, input: ResolveDisputeInput) -> Dispute:
        ctx = info.context
        dispute_id = parse_id(input.dispute_id, "disputeId")
        credit = None
        if input.credit_amount is not None:
            dispute = await ctx.loaders.dispute.load(dispute_id)
            if dispute is None:
                raise NotFound(f"dispute {dispute_id} does not exist")
            credit = to_minor(input.credit_amount, await _invoice_currency(info, dispute.invoice_id))
        cmd = c.ResolveDispute(dispute_id, input.outcome.value, credit, input.note)
        return Dispute.of(await perform(info, cmd))

    @strawberry.mutation(permission_classes=[CanCollect], description="Add a comment to a dispute.")
    async def comment_on_dispute(self, info: Info, dispute_id: strawberry.ID, text: str) -> Dispute:
        view = await perform(info, c.CommentOnDispute(parse_id(dispute_id, "disputeId"), text))
        return Dispute.of(view)

    @strawberry.mutation(permission_classes=[CanCollect], description="Make a queue or a collector the owner.")
    async def assign_dispute(self, info: Info, dispute_id: strawberry.ID, owner: str) -> Dispute:
        view = await perform(info, c.AssignDispute(parse_id(dispute_id, "disputeId"), owner))
        return Dispute.of(view)
