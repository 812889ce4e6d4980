"""Timeline entries, notes, calls and attachments."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from engine.queries.timeline import TimelineEntry as EntryView
from engine.queries.timeline import timeline
from engine.services.timeline import AttachmentView, NoteView
from schema.common.pagination import AFTER_DESCRIPTION, DEFAULT_PAGE_SIZE, FIRST_DESCRIPTION, Connection, connection
from schema.context import Info
from schema.ids import to_id
from states.errors import ValidationFailed


@strawberry.enum(description="What a timeline entry is.")
class TimelineKind(Enum):
    TRANSITION = "transition"
    PAYMENT = "payment"
    MESSAGE = "message"
    CALL = "call"
    NOTE = "note"


@strawberry.type(description="One thing that happened to a customer, newest first in the timeline.")
class TimelineEntry:
    kind: TimelineKind
    at: datetime
    entity_type: str = strawberry.field(description="invoice, account, dispute, task, dunning_block, note, payment.")
    entity_id: strawberry.ID
    summary: str
    actor: str | None
    detail: JSON

    @staticmethod
    def of(e: EntryView) -> "TimelineEntry":
        return TimelineEntry(
            kind=TimelineKind(e.kind),
            at=e.at,
            entity_type=e.entity_type,
            entity_id=to_id(e.entity_id),
            summary=e.summary,
            actor=e.actor,
            detail=e.detail,  # type: ignore[arg-type]  # JSON is the scalar of a plain dict
        )


async def timeline_page(
    info: Info, customer_id: int, invoice_id: int | None, first: int, after: str | None
) -> Connection[TimelineEntry]:
    ctx = info.context
    page = await ctx.run(timeline, ctx.store, customer_id, invoice_id, first, after)

    async def no_count() -> int:
        raise ValidationFailed("a timeline is not counted; read it page by page (pageInfo)", "totalCount")

    return connection(page, TimelineEntry.of, no_count, after)


TimelineFirst = Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)]
TimelineAfter = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
TIMELINE_PAGE = DEFAULT_PAGE_SIZE


@strawberry.type(description="A note or a logged call.")
class Note:
    id: strawberry.ID
    kind: TimelineKind
    text: str
    call_outcome: str | None
    author: str
    at: datetime
    invoice_id: strawberry.ID | None

    @staticmethod
    def of(n: NoteView) -> "Note":
        return Note(
            id=to_id(n.id),
            kind=TimelineKind(n.kind),
            text=n.text,
            call_outcome=n.call_outcome,
            author=n.author,
            at=n.at,
            invoice_id=to_id(n.invoice_id) if n.invoice_id is not None else None,
        )


@strawberry.type(description="A stored file (checked for size and type when it was added).")
class Attachment:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    at: datetime
    note_id: strawberry.ID | None
    dispute_id: strawberry.ID | None

    @staticmethod
    def of(a: AttachmentView) -> "Attachment":
        return Attachment(
            id=to_id(a.id),
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            uploaded_by=a.uploaded_by,
            at=a.at,
            note_id=to_id(a.note_id) if a.note_id is not None else None,
            dispute_id=to_id(a.dispute_id) if a.dispute_id is not None else None,
        )
