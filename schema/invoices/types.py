"""The Invoice type, its states, filter and orderings."""

from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from engine.predict.service import InvoicePrediction
from engine.queries.notices import NoticeView
from engine.views import CustomerView, DisputeView, InvoiceView, TransitionView
from schema.common.money import Money
from schema.common.pagination import Connection
from schema.context import Info
from schema.history.types import Transition, check_last
from schema.ids import to_id
from schema.loaders import now_or_later
from schema.timeline.types import TIMELINE_PAGE, TimelineAfter, TimelineEntry, TimelineFirst, timeline_page

if TYPE_CHECKING:
    from schema.cashapp.types import CreditNote
    from schema.credit.types import PromiseToPay
    from schema.customers.types import Customer
    from schema.disputes.types import Dispute
    from schema.notices.types import Notice
    from schema.payments.types import Payment
    from schema.predictions.types import PaymentPrediction


@strawberry.enum
class InvoiceState(Enum):
    OPEN = "open"
    OVERDUE = "overdue"
    DUNNING = "dunning"
    ESCALATED = "escalated"
    PROMISED = "promised"
    DISPUTED = "disputed"
    PAID = "paid"
    CANCELLED = "cancelled"
    WRITTEN_OFF = "written_off"


@strawberry.enum(description="Orderings of the invoice list (ties broken by id).")
class InvoiceOrder(Enum):
    DUE_DATE_ASC = "DUE_DATE_ASC"
    DUE_DATE_DESC = "DUE_DATE_DESC"
    ISSUE_DATE_DESC = "ISSUE_DATE_DESC"
    OPEN_AMOUNT_DESC = "OPEN_AMOUNT_DESC"
    NUMBER_ASC = "NUMBER_ASC"


@strawberry.input(description="Every given condition must hold.")
class InvoiceFilter:
    state: list[InvoiceState] | None = None
    customer_id: strawberry.ID | None = None
    segment: list[str] | None = None
    risk: list[str] | None = strawberry.field(default=None, description="Risk classes: low … critical.")
    min_days_past_due: int | None = None
    max_days_past_due: int | None = None
    currency: str | None = None
    number: str | None = None


@strawberry.type
class Invoice:
    id: strawberry.ID
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: Money
    open_amount: Money
    state: InvoiceState
    dunning_level: int
    last_notice_on: date | None
    paid_on: date | None
    version: int
    customer_id: strawberry.Private[int]
    invoice_id: strawberry.Private[int]

    @staticmethod
    def of(v: InvoiceView) -> "Invoice":
        return Invoice(
            id=to_id(v.id),
            number=v.number,
            issue_date=v.issue_date,
            due_date=v.due_date,
            currency=v.currency,
            amount=Money.of(v.amount, v.currency),
            open_amount=Money.of(v.open_amount, v.currency),
            state=InvoiceState(v.state),
            dunning_level=v.dunning_level,
            last_notice_on=v.last_notice_on,
            paid_on=v.paid_on,
            version=v.version,
            customer_id=v.customer_id,
            invoice_id=v.id,
        )

    @strawberry.field(description="Days since the due date on today's business date (negative: not due).")
    def days_past_due(self, info: Info) -> int:
        return (info.context.today() - self.due_date).days

    @strawberry.field
    def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("schema.customers.types")]:
        from schema.customers.types import Customer

        def convert(view: CustomerView | None) -> Customer:
            assert view is not None  # an invoice always has its customer
            return Customer.of(view)

        return now_or_later(info.context.loaders.customer, self.customer_id, convert)

    @strawberry.field
    def disputes(self, info: Info) -> list[Annotated["Dispute", strawberry.lazy("schema.disputes.types")]]:
        from schema.disputes.types import Dispute

        def convert(views: list[DisputeView]) -> list[Dispute]:
            return [Dispute.of(d) for d in views]

        return now_or_later(info.context.loaders.disputes_of_invoice, self.invoice_id, convert)

    @strawberry.field
    async def promises(self, info: Info) -> list[Annotated["PromiseToPay", strawberry.lazy("schema.credit.types")]]:
        from schema.credit.types import PromiseToPay

        found = await info.context.loaders.promises_of_invoice.load(self.invoice_id)
        return [PromiseToPay.of(p, self.currency) for p in found]

    @strawberry.field(description="What happened to this invoice (its customer's timeline, narrowed), newest first.")
    async def timeline(
        self, info: Info, first: TimelineFirst = TIMELINE_PAGE, after: TimelineAfter = None
    ) -> Connection[TimelineEntry]:
        return await timeline_page(info, self.customer_id, self.invoice_id, first, after)

    @strawberry.field(
        description="When it is expected to be paid, how likely late, and why (null once paid or cancelled)."
    )
    def payment_prediction(
        self, info: Info
    ) -> Annotated["PaymentPrediction", strawberry.lazy("schema.predictions.types")] | None:
        from schema.predictions.types import PaymentPrediction

        def convert(found: InvoicePrediction | None) -> PaymentPrediction | None:
            return None if found is None else PaymentPrediction.of(found)

        return now_or_later(info.context.loaders.payment_prediction, self.invoice_id, convert)

    @strawberry.field(description="Credit notes that lowered this invoice.")
    async def credit_notes(self, info: Info) -> list[Annotated["CreditNote", strawberry.lazy("schema.cashapp.types")]]:
        from schema.cashapp.types import CreditNote

        found = await info.context.loaders.credit_notes_of_invoice.load(self.invoice_id)
        return [
            CreditNote(
                id=to_id(n.id),
                amount=Money.of(n.amount, self.currency),
                reason=n.reason,
                dispute_id=to_id(n.dispute_id) if n.dispute_id else None,
                created_at=n.created_at,
                number=n.number,
            )
            for n in found
        ]

    @strawberry.field(description="Payments allocated to this invoice: where the money came from.")
    async def payments(self, info: Info) -> list[Annotated["Payment", strawberry.lazy("schema.payments.types")]]:
        from schema.payments.types import Payment

        return [Payment.of(p) for p in await info.context.loaders.payments_of_invoice.load(self.invoice_id)]

    @strawberry.field(description="The messages this invoice was in, newest first, each with its status.")
    def notices(self, info: Info) -> list[Annotated["Notice", strawberry.lazy("schema.notices.types")]]:
        from schema.notices.types import Notice

        def convert(views: list[NoticeView]) -> list[Notice]:
            return [Notice.of(v) for v in views]

        return now_or_later(info.context.loaders.notices_of_invoice, self.invoice_id, convert)

    @strawberry.field(description="The last `last` transitions, oldest first.")
    def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("invoice", check_last(last))
        return now_or_later(loader, self.invoice_id, _transitions)


def _transitions(views: list[TransitionView]) -> list[Transition]:
    return [Transition.of(t) for t in views]
