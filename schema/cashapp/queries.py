"""`bankTransactions(filter, first, after)`, `bankTransaction(id)`, `payments(filter, first, after)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries import cashapp as q
from schema.cashapp.types import BankTransaction, BankTransactionFilter
from schema.common.pagination import AFTER_DESCRIPTION, DEFAULT_PAGE_SIZE, FIRST_DESCRIPTION, Connection, connection
from schema.context import Info
from schema.ids import parse_id
from schema.payments.types import Payment
from schema.permissions import CanRead
from states.money import check_currency


@strawberry.input
class PaymentFilter:
    customer_id: strawberry.ID | None = None
    invoice_id: strawberry.ID | None = None
    currency: str | None = None
    with_unapplied: bool = strawberry.field(default=False, description="Only payments with unapplied credit left.")


@strawberry.type
class CashQueries:
    @strawberry.field(permission_classes=[CanRead], description="The cash-application queue and history.")
    async def bank_transactions(
        self,
        info: Info,
        filter: BankTransactionFilter | None = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[BankTransaction]:
        ctx = info.context
        f = filter or BankTransactionFilter()
        flt = q.BankTransactionFilter(
            states=tuple(s.value for s in f.status or ()),
            customer_id=parse_id(f.customer_id, "customerId") if f.customer_id is not None else None,
            booked_from=f.from_,
            booked_to=f.to,
        )
        page = await ctx.run(q.list_bank_transactions, ctx.store, flt, first, after)

        async def count() -> int:
            return await ctx.run(q.count_bank_transactions, ctx.store, flt)

        return connection(page, BankTransaction.of, count, after)

    @strawberry.field(permission_classes=[CanRead])
    async def bank_transaction(self, info: Info, id: strawberry.ID) -> BankTransaction | None:
        view = await info.context.run(q.bank_transaction, info.context.store, parse_id(id))
        return BankTransaction.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead], description="Payments, newest first: where money went.")
    async def payments(
        self,
        info: Info,
        filter: PaymentFilter | None = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Payment]:
        ctx = info.context
        f = filter or PaymentFilter()
        flt = q.PaymentFilter(
            customer_id=parse_id(f.customer_id, "customerId") if f.customer_id is not None else None,
            invoice_id=parse_id(f.invoice_id, "invoiceId") if f.invoice_id is not None else None,
            currency=check_currency(f.currency) if f.currency else None,
            with_unapplied=f.with_unapplied,
        )
        page = await ctx.run(q.list_payments, ctx.store, flt, first, after)

        async def count() -> int:
            return await ctx.run(q.count_payments, ctx.store, flt)

        return connection(page, Payment.of, count, after)
