"""Payments and their allocations to invoices (cash application)."""

from datetime import date

import strawberry

from engine.views import PaymentView
from schema.common.money import Money
from schema.context import Info
from schema.customers.types import Customer
from schema.ids import to_id
from schema.invoices.types import Invoice


@strawberry.type(description="The part of a payment applied to one invoice.")
class Allocation:
    amount: Money
    invoice_id: strawberry.Private[int]

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice:
        view = await info.context.loaders.invoice.load(self.invoice_id)
        assert view is not None
        return Invoice.of(view)


@strawberry.type
class Payment:
    id: strawberry.ID
    reference: str
    received_on: date
    amount: Money
    unapplied_amount: Money = strawberry.field(description="Kept as the customer's unapplied credit.")
    reversed: bool
    allocations: list[Allocation]
    customer_id: strawberry.Private[int]

    @staticmethod
    def of(p: PaymentView) -> "Payment":
        return Payment(
            id=to_id(p.id),
            reference=p.reference,
            received_on=p.received_on,
            amount=Money.of(p.amount, p.currency),
            unapplied_amount=Money.of(p.unapplied_amount, p.currency),
            reversed=p.reversed,
            allocations=[
                Allocation(amount=Money.of(a.amount, p.currency), invoice_id=a.invoice_id) for a in p.allocations
            ],
            customer_id=p.customer_id,
        )

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        view = await info.context.loaders.customer.load(self.customer_id)
        assert view is not None
        return Customer.of(view)
