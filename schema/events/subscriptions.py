"""`events(after, types, subject, customerId)`: the outbox, polled by id cursor.

Subscribers on any replica see events committed through any other, because this reads the
table, not process memory. (Hardening — backoff, limits, heartbeat — belongs to the events issue.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from engine.events.cursor import decode, horizon_for, settled_events_after
from schema.context import Info
from schema.events.types import Event
from schema.ids import parse_id
from schema.permissions import CanSubscribe

POLL_SECONDS = 0.5
BATCH = 100


def _cursor(after: str | None) -> int | None:
    return None if after is None else decode(after)


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
            position = await ctx.run(horizon_for(ctx.store).get)
        while True:
            batch = await ctx.run(
                settled_events_after, ctx.store, position, BATCH, tuple(types or ()), subject, customer
            )
            for event in batch:
                position = event.position
                yield Event.of(event, ctx.engine.settings.source)
            if len(batch) < BATCH:
                await asyncio.sleep(POLL_SECONDS)
