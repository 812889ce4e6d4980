"""Outbox events as delivered to subscribers (CloudEvents-like fields)."""

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from engine.queries.events import EventView
from schema.ids import to_id


@strawberry.type(description="One outbox event. Deduplicate by `id`; resume after `cursor`.")
class Event:
    id: str
    cursor: str
    type: str
    subject: str
    entity_type: str
    entity_id: strawberry.ID
    entity_version: int
    customer_id: strawberry.ID | None
    time: datetime
    data: JSON

    @staticmethod
    def of(e: EventView) -> "Event":
        return Event(
            id=e.id,
            cursor=str(e.position),
            type=e.type,
            subject=e.subject,
            entity_type=e.entity_type,
            entity_id=to_id(e.entity_id),
            entity_version=e.entity_version,
            customer_id=to_id(e.customer_id) if e.customer_id is not None else None,
            time=e.time,
            data=JSON(e.data),
        )
