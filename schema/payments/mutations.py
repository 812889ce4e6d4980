"""`recordPayment`: cash application by invoice id or number; the excess stays unapplied; the
resulting transitions (paid, automatic holds released) commit in the same transaction."""

from __future__ import annotations

from datetime import date

import strawberry

from engine import commands as c
from schema.common.money import MoneyInput
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.payments.types import Payment
from schema.permissions import CanCollect
from states.errors import ValidationFailed
from states.money import to_minor


@strawberry.input(description="Apply `amount` (in the payment's currency) to one invoice, by id or number.")
class AllocationInput:
    amount: str
    invoice_id: strawberry.ID | None = None
    invoice_number: str | None = None


@strawberry.input
class RecordPaymentInput:
    customer_id: strawberry.ID
    reference: str
    amount: MoneyInput
    received_on: date
    allocations: list[AllocationInput] = strawberry.field(default_factory=list)


def _line(a: AllocationInput, currency: str, index: int | None = None) -> c.AllocationLine:
    try:
        if a.invoice_id is None and not a.invoice_number:
            raise ValidationFailed("name each allocation's invoice by id or number", "invoiceId")
        return c.AllocationLine(
            amount=to_minor(a.amount, currency),
            invoice_id=parse_id(a.invoice_id, "invoiceId") if a.invoice_id is not None else None,
            invoice_number=a.invoice_number,
        )
    except ValidationFailed as error:  # name the line as the client wrote it: allocations[1].amount
        raise error.under("allocations" if index is None else f"allocations[{index}]") from None


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(permission_classes=[CanCollect])
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> Payment:
        currency = input.amount.currency.upper()
        cmd = c.RecordPayment(
            customer_id=parse_id(input.customer_id, "customerId"),
            reference=input.reference,
            amount=input.amount.to_minor(),
            currency=currency,
            received_on=input.received_on,
            allocations=tuple(_line(a, currency, k) for k, a in enumerate(input.allocations)),
        )
        return Payment.of(await perform(info, cmd))
