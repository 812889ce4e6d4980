"""Bank transactions (the cash-application exception queue) and their match candidates."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from engine.queries.cashapp import BankTransactionView
from schema.common.money import Money
from schema.ids import to_id
from states import bank_transaction as bt


@strawberry.enum
class BankTransactionStatus(Enum):
    IMPORTED = bt.IMPORTED
    AUTO_APPLIED = bt.AUTO_APPLIED
    SUGGESTED = bt.SUGGESTED
    UNMATCHED = bt.UNMATCHED
    APPLIED = bt.APPLIED
    ON_ACCOUNT = bt.ON_ACCOUNT
    EXCLUDED = bt.EXCLUDED
    RETURNED = bt.RETURNED


@strawberry.input
class BankTransactionFilter:
    status: list[BankTransactionStatus] | None = None
    customer_id: strawberry.ID | None = None
    from_: date | None = strawberry.field(default=None, name="from", description="Booked on or after.")
    to: date | None = strawberry.field(default=None, description="Booked on or before.")


@strawberry.type(description="An invoice a candidate would pay, and how much.")
class CandidateAllocation:
    invoice_id: strawberry.ID
    amount: Money
    short_paid: Money = strawberry.field(description="Settled within the short-payment tolerance.")


@strawberry.type(description="A possible match of a bank transaction, with its confidence and reasons.")
class MatchCandidate:
    customer_id: strawberry.ID
    confidence: int = strawberry.field(
        description="Percent; at or above the policy's auto-apply confidence it is applied."
    )
    reasons: list[str]
    allocations: list[CandidateAllocation]


@strawberry.type
class BankTransaction:
    id: strawberry.ID
    bank_ref: str
    statement: str
    format: str
    direction: str
    booked_on: date
    amount: Money
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    status: BankTransactionStatus
    customer_id: strawberry.ID | None
    payment_id: strawberry.ID | None
    confidence: int
    note: str | None
    candidates: list[MatchCandidate]

    @staticmethod
    def of(v: BankTransactionView) -> BankTransaction:
        return BankTransaction(
            id=to_id(v.id),
            bank_ref=v.bank_ref,
            statement=v.statement,
            format=v.source_format,
            direction=v.direction,
            booked_on=v.booked_on,
            amount=Money.of(v.amount, v.currency),
            payer_name=v.payer_name,
            payer_iban=v.payer_iban,
            remittance=v.remittance,
            status=BankTransactionStatus(v.state),
            customer_id=to_id(v.customer_id) if v.customer_id else None,
            payment_id=to_id(v.payment_id) if v.payment_id else None,
            confidence=v.confidence,
            note=v.note,
            candidates=[_candidate(c, v.currency) for c in v.candidates],
        )


def _candidate(c: dict[str, object], currency: str) -> MatchCandidate:
    shorts = {int(s["invoiceId"]): int(s["amount"]) for s in c.get("shortPaid", []) or []}  # type: ignore[attr-defined]
    return MatchCandidate(
        customer_id=to_id(int(c["customerId"])),  # type: ignore[call-overload]
        confidence=int(c["confidence"]),  # type: ignore[call-overload]
        reasons=[str(r) for r in c.get("reasons", []) or []],  # type: ignore[attr-defined]
        allocations=[
            CandidateAllocation(
                invoice_id=to_id(int(a["invoiceId"])),
                amount=Money.of(int(a["amount"]), currency),
                short_paid=Money.of(shorts.get(int(a["invoiceId"]), 0), currency),
            )
            for a in c.get("allocations", []) or []  # type: ignore[attr-defined]
        ],
    )


@strawberry.type(description="What an imported statement did.")
class StatementImport:
    format: str
    transactions: int
    auto_applied: int
    suggested: int
    unmatched: int
    excluded: int
    duplicates: int


@strawberry.type(description="How a customer appears on bank statements (taught by a person's match or registered).")
class PayerAlias:
    kind: str = strawberry.field(description="iban | name")
    value: str = strawberry.field(
        description="Normalised: IBAN without spaces; name in lower case without legal forms."
    )


@strawberry.type(description="A credit note that lowered the invoice (a dispute resolved with credit).")
class CreditNote:
    id: strawberry.ID
    amount: Money
    reason: str
    dispute_id: strawberry.ID | None
    created_at: datetime
    number: str | None = strawberry.field(default=None, description="CN-YYYY-NNNNNN, given when it is issued.")
