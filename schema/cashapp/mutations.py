"""Cash application mutations: import a statement, work the queue, apply/unapply/reverse money."""

from __future__ import annotations

from enum import Enum

import strawberry

from engine import commands as c
from engine.cashapp.formats import StatementError
from engine.queries import cashapp as q
from schema.cashapp.types import BankTransaction, PayerAlias, StatementImport
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.payments.mutations import AllocationInput, _line
from schema.payments.types import Payment
from schema.permissions import CanCollect
from states.errors import NotFound, ValidationFailed
from states.money import check_currency

MAX_STATEMENT_CHARS = 900_000  # below the request body limit


@strawberry.enum
class StatementFormat(Enum):
    CAMT053 = "camt053"
    MT940 = "mt940"
    BAI2 = "bai2"
    CSV = "csv"


@strawberry.enum
class PayerAliasKind(Enum):
    IBAN = "iban"
    NAME = "name"


async def _txn(info: Info, txn_id: int) -> BankTransaction:
    view = await info.context.run(q.bank_transaction, info.context.store, txn_id)
    if view is None:
        raise NotFound(f"bank transaction {txn_id} does not exist")
    return BankTransaction.of(view)


@strawberry.type
class CashMutations:
    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Import a bank statement given as text. A short payment beyond the tolerance may open a "
        "DEDUCTION dispute for the difference (policy/disputes.yaml).",
    )
    async def import_statement(self, info: Info, text: str, format: StatementFormat | None = None) -> StatementImport:
        if len(text) > MAX_STATEMENT_CHARS:
            raise ValidationFailed(f"the statement is longer than {MAX_STATEMENT_CHARS} characters", "text")
        try:
            s = await perform(info, c.ImportStatement(text, format.value if format else None))
        except StatementError as exc:  # "LINE: problem" (or an element path) inside this argument
            raise ValidationFailed(exc.message, "text") from None
        return StatementImport(**s.as_json())

    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="A person's match; no allocations: on account. Allocations that take all "
        "of the money are short payments: within the tolerance they settle, beyond it a DEDUCTION dispute "
        "may open for the difference (policy/disputes.yaml).",
    )
    async def apply_bank_transaction(
        self,
        info: Info,
        id: strawberry.ID,
        customer_id: strawberry.ID,
        allocations: list[AllocationInput] | None = None,
    ) -> BankTransaction:
        txn_id = parse_id(id)
        current = await _txn(info, txn_id)
        lines = tuple(_line(a, current.amount.currency) for a in allocations or [])
        await perform(info, c.ApplyBankTransaction(txn_id, parse_id(customer_id, "customerId"), lines))
        return await _txn(info, txn_id)

    @strawberry.mutation(permission_classes=[CanCollect], description="Not a customer payment (with a reason).")
    async def exclude_bank_transaction(self, info: Info, id: strawberry.ID, reason: str) -> BankTransaction:
        txn_id = await perform(info, c.ExcludeBankTransaction(parse_id(id), reason))
        return await _txn(info, txn_id)

    @strawberry.mutation(permission_classes=[CanCollect], description="Sent back to the payer (with a reason).")
    async def return_bank_transaction(self, info: Info, id: strawberry.ID, reason: str) -> BankTransaction:
        txn_id = await perform(info, c.ReturnBankTransaction(parse_id(id), reason))
        return await _txn(info, txn_id)

    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Register a payer IBAN or name as the customer's, for matching statements.",
    )
    async def add_payer_alias(
        self, info: Info, customer_id: strawberry.ID, kind: PayerAliasKind, value: str
    ) -> PayerAlias:
        cid = parse_id(customer_id, "customerId")
        found = await perform(info, c.AddPayerAlias(cid, kind.value, value))
        return PayerAlias(kind=found[0], value=found[1])

    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Apply unapplied credit in `currency`: the allocations given, or oldest due first.",
    )
    async def apply_credit(
        self, info: Info, customer_id: strawberry.ID, currency: str, allocations: list[AllocationInput] | None = None
    ) -> list[Payment]:
        code = check_currency(currency)
        cmd = c.ApplyCredit(parse_id(customer_id, "customerId"), code, tuple(_line(a, code) for a in allocations or []))
        return [Payment.of(v) for v in await perform(info, cmd)]

    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Take a payment's allocations back; the money stays as credit; deductions it opened are withdrawn.",
    )
    async def unapply_payment(self, info: Info, id: strawberry.ID, reason: str) -> Payment:
        return Payment.of(await perform(info, c.UnapplyPayment(parse_id(id), reason)))

    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="A bounced or recalled payment: the invoices reopen; deductions it opened are withdrawn.",
    )
    async def reverse_payment(self, info: Info, id: strawberry.ID, reason: str) -> Payment:
        return Payment.of(await perform(info, c.ReversePayment(parse_id(id), reason)))
