"""`events(after, first, types, subject)`: replay the event log from any cursor."""

from __future__ import annotations

import strawberry

from engine.events.cursor import decode, encode
from engine.events.retention import replay
from engine.journal.catalogue import check_event_types
from schema.context import Info
from schema.events.types import Event, EventPage
from schema.permissions import CanRead
from states.errors import ValidationFailed

MAX_EVENTS = 500


@strawberry.type
class EventQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description=(
            f"Events after `after` (omit it to start at the oldest event kept), oldest first; at most {MAX_EVENTS}."
            " A cursor older than the retention fails with CURSOR_EXPIRED."
        ),
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        first: int = 100,
        types: list[str] | None = None,
        subject: str | None = None,
    ) -> EventPage:
        if not 1 <= first <= MAX_EVENTS:
            raise ValidationFailed(f"`first` is between 1 and {MAX_EVENTS}", "first")
        ctx = info.context
        check_event_types(types or (), "types")
        position = decode(after) if after is not None else None
        batch = await ctx.run(replay, ctx.store, position, first + 1, tuple(types or ()), subject)
        page = batch[:first]
        source = ctx.engine.settings.source
        end = page[-1].position if page else (position or 0)
        return EventPage(
            events=[Event.of(e, source) for e in page], end_cursor=encode(end), has_more=len(batch) > first
        )
