"""`issueInvoice` (admin) and `transitionInvoice` (a person's manual move, reason required)."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from engine import commands as c
from schema.common.money import MoneyInput
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.invoices.types import Invoice
from schema.permissions import CanCollect, CanManageMaster


@strawberry.input
class IssueInvoiceInput:
    customer_id: strawberry.ID
    number: str
    amount: MoneyInput
    issue_date: date
    due_date: date | None = strawberry.field(
        default=None, description="Default: issue date + the customer's payment terms."
    )


@strawberry.enum(description="Triggers a person may fire by hand.")
class ManualInvoiceTrigger(Enum):
    MARK_OVERDUE = "mark_overdue"
    DUN = strawberry.enum_value(
        "dun",
        description="The strategy's next ladder step now: the level rises by one and its notice is requested "
        "exactly as the rule's `dun` would (channel, template, one message per customer, date and channel); "
        "the wait between notices is the person's to overrule, one notice per invoice per day is not.",
    )
    ESCALATE = "escalate"
    RECALL = "recall"
    CANCEL = "cancel"


@strawberry.input
class TransitionInvoiceInput:
    invoice_id: strawberry.ID
    trigger: ManualInvoiceTrigger
    reason: str = strawberry.field(description="Why; kept in the history. Required.")


@strawberry.type
class InvoiceMutations:
    @strawberry.mutation(permission_classes=[CanManageMaster])
    async def issue_invoice(self, info: Info, input: IssueInvoiceInput) -> Invoice:
        cmd = c.IssueInvoice(
            customer_id=parse_id(input.customer_id, "customerId"),
            number=input.number,
            amount=input.amount.to_minor(),
            currency=input.amount.currency.upper(),
            issue_date=input.issue_date,
            due_date=input.due_date,
        )
        return Invoice.of(await perform(info, cmd))

    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Move an invoice by hand (reason required, kept in the history with the person). `DUN` "
        "takes the routed strategy's next ladder step with its notice (docs/notices.md).",
    )
    async def transition_invoice(self, info: Info, input: TransitionInvoiceInput) -> Invoice:
        cmd = c.TransitionInvoice(
            invoice_id=parse_id(input.invoice_id, "invoiceId"),
            trigger=input.trigger.value,
            reason=input.reason,
        )
        return Invoice.of(await perform(info, cmd))
