"""The Dispute type, its states, filter and orderings."""

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from engine.views import DisputeView
from schema.common.money import Money
from schema.context import Info
from schema.history.types import Transition, check_last
from schema.ids import to_id

if TYPE_CHECKING:
    from schema.cashapp.types import CreditNote
    from schema.customers.types import Customer
    from schema.invoices.types import Invoice
    from schema.payments.types import Payment


@strawberry.enum
class DisputeState(Enum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    AWAITING_CUSTOMER = "awaiting_customer"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


@strawberry.enum
class DisputeReason(Enum):
    PRICING = "pricing"
    QUANTITY = "quantity"
    QUALITY = "quality"
    NOT_RECEIVED = "not_received"
    DUPLICATE = "duplicate"
    TERMS = "terms"
    DEDUCTION = "deduction"
    OTHER = "other"


@strawberry.enum
class DisputeOutcome(Enum):
    ACCEPTED = "accepted"
    PARTIAL = "partial"
    REJECTED = "rejected"


@strawberry.enum(description="Orderings of the dispute list (ties broken by id).")
class DisputeOrder(Enum):
    OPENED_AT_DESC = "OPENED_AT_DESC"
    DUE_AT_ASC = "DUE_AT_ASC"


@strawberry.input(description="Every given condition must hold.")
class DisputeFilter:
    state: list[DisputeState] | None = None
    customer_id: strawberry.ID | None = None
    invoice_id: strawberry.ID | None = None
    reason: list[DisputeReason] | None = None


@strawberry.type(description="A comment on a dispute, by a person.")
class DisputeComment:
    author: str
    text: str
    at: datetime


@strawberry.type(
    description="A customer's contest of an invoice. Of the whole open amount: dunning on the invoice "
    "pauses. Of a part: the rest stays on the ladder (the `collectible_amount` fact)."
)
class Dispute:
    id: strawberry.ID
    reason_code: DisputeReason
    state: DisputeState
    outcome: DisputeOutcome | None
    description: str | None
    opened_at: datetime
    due_at: datetime = strawberry.field(description="When its SLA passes and it escalates.")
    resolved_at: datetime | None
    version: int
    owner: str | None = strawberry.field(description="The queue or collector that owns it (policy/disputes.yaml).")
    view: strawberry.Private[DisputeView]

    @staticmethod
    def of(d: DisputeView) -> "Dispute":
        return Dispute(
            id=to_id(d.id),
            reason_code=DisputeReason(d.reason_code),
            state=DisputeState(d.state),
            outcome=DisputeOutcome(d.outcome) if d.outcome else None,
            description=d.description,
            opened_at=d.opened_at,
            due_at=d.due_at,
            resolved_at=d.resolved_at,
            version=d.version,
            owner=d.owner,
            view=d,
        )

    async def _currency(self, info: Info) -> str:
        invoice = await info.context.loaders.invoice.load(self.view.invoice_id)
        assert invoice is not None
        return invoice.currency

    @strawberry.field(description="The disputed amount, in the invoice's currency.")
    async def amount(self, info: Info) -> Money:
        return Money.of(self.view.amount, await self._currency(info))

    @strawberry.field(description="The credit granted on resolution (accepted or partial).")
    async def credit_amount(self, info: Info) -> Money | None:
        if self.view.credit_amount is None:
            return None
        return Money.of(self.view.credit_amount, await self._currency(info))

    @strawberry.field
    async def invoice(self, info: Info) -> Annotated["Invoice", strawberry.lazy("schema.invoices.types")]:
        from schema.invoices.types import Invoice

        view = await info.context.loaders.invoice.load(self.view.invoice_id)
        assert view is not None
        return Invoice.of(view)

    @strawberry.field(
        description="A deduction: the short payment (cash application) whose difference it contests; "
        "null for a dispute a person opened."
    )
    async def payment(self, info: Info) -> Annotated["Payment", strawberry.lazy("schema.payments.types")] | None:
        from schema.payments.types import Payment

        if self.view.payment_id is None:
            return None
        view = await info.context.loaders.payment.load(self.view.payment_id)
        return Payment.of(view) if view is not None else None

    @strawberry.field
    async def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("schema.customers.types")]:
        from schema.customers.types import Customer

        view = await info.context.loaders.customer.load(self.view.customer_id)
        assert view is not None
        return Customer.of(view)

    @strawberry.field(description="The last `last` transitions, oldest first.")
    async def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("dispute", check_last(last))
        return [Transition.of(t) for t in await loader.load(self.view.id)]

    @strawberry.field(description="Comments, oldest first.")
    async def comments(self, info: Info) -> list[DisputeComment]:
        ctx = info.context
        found = await ctx.run(ctx.service.dispute_comments, self.view.id)
        return [DisputeComment(author=a, text=t, at=at) for a, t, at in found]

    @strawberry.field(description="Credit notes its resolution issued (each with its number).")
    async def credit_notes(self, info: Info) -> list[Annotated["CreditNote", strawberry.lazy("schema.cashapp.types")]]:
        from schema.cashapp.types import CreditNote

        currency = await self._currency(info)
        found = await info.context.loaders.credit_notes_of_invoice.load(self.view.invoice_id)
        return [
            CreditNote(
                id=to_id(n.id),
                amount=Money.of(n.amount, currency),
                reason=n.reason,
                dispute_id=to_id(self.view.id),
                created_at=n.created_at,
                number=n.number,
            )
            for n in found
            if n.dispute_id == self.view.id
        ]
