"""What a reader sees of a dunning block."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from engine.clock import loaded
from engine.store.models import Entity


@dataclass(frozen=True)
class BlockView:
    id: int
    customer_id: int
    invoice_id: int | None
    reason_code: str
    note: str | None
    starts_on: date
    ends_on: date | None
    status: str
    placed_by: str
    placed_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    version: int

    @staticmethod
    def of(b: Entity) -> BlockView:
        return BlockView(
            b.id,
            b.customer.id,
            b.invoice.id if b.invoice else None,
            b.reason_code,
            b.note,
            b.starts_on,
            b.ends_on,
            b.status,
            b.placed_by,
            loaded(b.placed_at),
            loaded(b.ended_at) if b.ended_at else None,
            b.ended_by,
            b.end_reason,
            b.version,
        )

    def in_force(self, today: date) -> bool:
        return self.status == "active" and self.starts_on <= today and (self.ends_on is None or self.ends_on >= today)
