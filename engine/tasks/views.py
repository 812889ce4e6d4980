"""What a reader sees of a task (plain values, no Pony entity)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.clock import loaded
from engine.store.models import Entity


@dataclass(frozen=True)
class TaskView:
    id: int
    customer_id: int
    invoice_id: int | None
    subject: str
    queue: str
    status: str
    source: str
    rule: str
    note: str | None
    assignee: str | None
    due_on: date | None
    snoozed_until: date | None
    outcome: str | None
    result_note: str | None
    handover: dict[str, Any] | None
    business_date: date
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def of(t: Entity) -> TaskView:
        return TaskView(
            t.id,
            t.customer.id,
            t.invoice.id if t.invoice else None,
            t.subject or "",
            t.queue,
            t.status,
            t.source or "rule",
            t.rule,
            t.note,
            t.assignee,
            t.due_on,
            t.snoozed_until,
            t.outcome,
            t.result_note,
            json.loads(t.handover) if t.handover else None,
            t.business_date,
            loaded(t.created_at),
            loaded(t.updated_at or t.created_at),
            t.version or 1,
        )
