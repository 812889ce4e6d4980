"""`events(after, types, subject, customerId)`: the outbox, polled by id cursor.

Subscribers on any replica see events committed through any other, because this reads the
table, not process memory. (Hardening — backoff, limits, heartbeat — belongs to the events issue.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from engine.queries.events import events_after, last_position
from schema.context import Info
from schema.events.types import Event
from schema.ids import parse_id
from schema.permissions import CanSubscribe
from states.errors import ValidationFailed

POLL_SECONDS = 0.5
BATCH = 100


def _cursor(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        value = int(after)
    except ValueError:
        raise ValidationFailed("`after` is an event cursor (a number)", "after") from None
    if value < 0:
        raise ValidationFailed("`after` is an event cursor (a number)", "after")
    return value


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        permission_classes=[CanSubscribe],
        description="Events after `after` (default: only new ones), then new events as they commit.",
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        types: list[str] | None = None,
        subject: str | None = None,
        customer_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[Event, None]:
        ctx = info.context
        customer = parse_id(customer_id, "customerId") if customer_id is not None else None
        position = _cursor(after)
        if position is None:
            position = await ctx.run(last_position, ctx.store)
        while True:
            batch = await ctx.run(events_after, ctx.store, position, BATCH, tuple(types or ()), subject, customer)
            for event in batch:
                position = event.position
                yield Event.of(event)
            if len(batch) < BATCH:
                await asyncio.sleep(POLL_SECONDS)
