"""`recordPromiseToPay`, `placeCreditHold`, `releaseCreditHold` (collectors)."""

from __future__ import annotations

from datetime import date

import strawberry

from engine import commands as c
from schema.common.mutation import perform
from schema.context import Info
from schema.credit.types import HoldReason, PromiseToPay
from schema.customers.types import Customer
from schema.ids import parse_id
from schema.permissions import CanCollect
from states.errors import NotFound, ValidationFailed
from states.money import to_minor


@strawberry.input
class RecordPromiseToPayInput:
    invoice_id: strawberry.ID
    amount: str = strawberry.field(description="In the invoice's currency.")
    promised_date: date
    note: str | None = None
    tolerance_days: int | None = None


@strawberry.input
class PlaceCreditHoldInput:
    customer_id: strawberry.ID
    reason: HoldReason = HoldReason.MANUAL
    note: str | None = None


@strawberry.input
class ReleaseCreditHoldInput:
    customer_id: strawberry.ID
    reason: HoldReason = strawberry.field(description="Which of the account's hold reasons to release.")
    reason_code: str = strawberry.field(description="Why it is released; required, kept in the history.")
    note: str | None = None
    exception_until: date | None = strawberry.field(
        default=None,
        description="For an automatic reason: until when the cycle must not place it again "
        "(default and longest: policy/credit.yaml).",
    )


@strawberry.type
class CreditMutations:
    @strawberry.mutation(permission_classes=[CanCollect])
    async def record_promise_to_pay(self, info: Info, input: RecordPromiseToPayInput) -> PromiseToPay:
        ctx = info.context
        invoice_id = parse_id(input.invoice_id, "invoiceId")
        invoice = await ctx.loaders.invoice.load(invoice_id)
        if invoice is None:
            raise NotFound(f"invoice {invoice_id} does not exist")
        cmd = c.RecordPromise(
            invoice_id=invoice_id,
            amount=to_minor(input.amount, invoice.currency),
            promised_date=input.promised_date,
            note=input.note,
            tolerance_days=input.tolerance_days,
        )
        view = await perform(info, cmd)
        return PromiseToPay.of(view, invoice.currency)

    @strawberry.mutation(permission_classes=[CanCollect], description="Returns the account now on hold.")
    async def place_credit_hold(self, info: Info, input: PlaceCreditHoldInput) -> Customer:
        ctx = info.context
        cmd = c.PlaceHold(parse_id(input.customer_id, "customerId"), input.reason.value, input.note)
        hold = await perform(info, cmd)
        view = await ctx.loaders.customer.load(hold.customer_id)
        assert view is not None
        return Customer.of(view)

    @strawberry.mutation(permission_classes=[CanCollect])
    async def release_credit_hold(self, info: Info, input: ReleaseCreditHoldInput) -> Customer:
        if not input.reason_code.strip():
            raise ValidationFailed("a reason code is required to release a credit hold", "reasonCode")
        cmd = c.ReleaseHold(
            customer_id=parse_id(input.customer_id, "customerId"),
            reason=input.reason.value,
            reason_code=input.reason_code.strip(),
            note=input.note,
            exception_until=input.exception_until,
        )
        return Customer.of(await perform(info, cmd))
