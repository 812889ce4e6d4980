"""Outbox events as delivered to subscribers and the `events` query: the CloudEvents 1.0
attributes as fields, plus the whole envelope (`envelope`, the JSON a webhook receives)."""

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from engine.events.cursor import encode
from engine.events.envelope import DATACONTENTTYPE, SPECVERSION, to_dict
from engine.queries.events import EventView
from schema.ids import to_id


@strawberry.type(description="One outbox event. Deduplicate by `id`; resume after `cursor`.")
class Event:
    id: str
    cursor: str = strawberry.field(description="Opaque; pass it as `after` to resume after this event.")
    source: str
    specversion: str
    type: str
    subject: str
    datacontenttype: str
    entity_type: str
    entity_id: strawberry.ID
    entity_version: int = strawberry.field(description="Grows per entity: drop an event older than one seen.")
    customer_id: strawberry.ID | None
    time: datetime
    data: JSON
    envelope: JSON = strawberry.field(description="The CloudEvents 1.0 JSON envelope, as webhooks receive it.")

    @staticmethod
    def of(e: EventView, source: str) -> "Event":
        envelope = to_dict(e, source)
        return Event(
            id=e.id,
            cursor=encode(e.position),
            source=source,
            specversion=SPECVERSION,
            type=e.type,
            subject=e.subject,
            datacontenttype=DATACONTENTTYPE,
            entity_type=e.entity_type,
            entity_id=to_id(e.entity_id),
            entity_version=e.entity_version,
            customer_id=to_id(e.customer_id) if e.customer_id is not None else None,
            time=e.time,
            data=JSON(envelope["data"]),
            envelope=JSON(envelope),
        )


@strawberry.type(description="A page of the event log, oldest first.")
class EventPage:
    events: list[Event]
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page (also when empty).")
    has_more: bool
