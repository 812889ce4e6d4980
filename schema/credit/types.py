"""Credit holds and promises to pay."""

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from engine.views import HoldView, PromiseView
from schema.common.money import Money
from schema.context import Info
from schema.ids import to_id

if TYPE_CHECKING:
    from schema.invoices.types import Invoice


@strawberry.enum
class HoldReason(Enum):
    OVERDUE = "overdue"
    OVER_LIMIT = "over_limit"
    RISK = "risk"
    MANUAL = "manual"


@strawberry.type(description="One reason that holds a credit account.")
class CreditHold:
    id: strawberry.ID
    reason: HoldReason
    note: str | None
    placed_at: datetime
    placed_by: str
    released_at: datetime | None
    released_by: str | None
    release_reason_code: str | None
    exception_until: date | None = strawberry.field(
        description="A person released this automatic reason: the cycle does not place it again until then."
    )

    @strawberry.field
    def active(self) -> bool:
        return self.released_at is None

    @staticmethod
    def of(h: HoldView) -> "CreditHold":
        return CreditHold(
            id=to_id(h.id),
            reason=HoldReason(h.reason),
            note=h.note,
            placed_at=h.placed_at,
            placed_by=h.placed_by,
            released_at=h.released_at,
            released_by=h.released_by,
            release_reason_code=h.release_reason_code,
            exception_until=h.exception_until,
        )


@strawberry.enum
class PromiseStatus(Enum):
    ACTIVE = "active"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


@strawberry.type(description="A customer's commitment to pay an amount by a date.")
class PromiseToPay:
    id: strawberry.ID
    amount: Money
    promised_date: date
    tolerance_days: int
    status: PromiseStatus
    note: str | None
    invoice_id: strawberry.Private[int]

    @staticmethod
    def of(p: PromiseView, currency: str) -> "PromiseToPay":
        return PromiseToPay(
            id=to_id(p.id),
            amount=Money.of(p.amount, currency),
            promised_date=p.promised_date,
            tolerance_days=p.tolerance_days,
            status=PromiseStatus(p.status),
            note=p.note,
            invoice_id=p.invoice_id,
        )

    @strawberry.field
    async def invoice(self, info: Info) -> Annotated["Invoice", strawberry.lazy("schema.invoices.types")]:
        from schema.invoices.types import Invoice

        view = await info.context.loaders.invoice.load(self.invoice_id)
        assert view is not None
        return Invoice.of(view)
