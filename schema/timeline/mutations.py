"""`addNote`, `logCall`, `addAttachment` (collectors)."""

from __future__ import annotations

import strawberry

from engine import commands as c
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanCollect
from schema.tasks.types import TaskOutcome
from schema.timeline.types import Attachment, Note


@strawberry.input
class AddNoteInput:
    customer_id: strawberry.ID
    text: str
    invoice_id: strawberry.ID | None = None


@strawberry.input
class LogCallInput:
    customer_id: strawberry.ID
    outcome: TaskOutcome = strawberry.field(description="reached, voicemail, promise, dispute, wrong number, …")
    note: str | None = None
    invoice_id: strawberry.ID | None = None


@strawberry.input
class AddAttachmentInput:
    customer_id: strawberry.ID
    filename: str
    content_type: str = strawberry.field(description="As the sender says; the stored type is sniffed from the bytes.")
    content_base64: str
    note_id: strawberry.ID | None = None
    dispute_id: strawberry.ID | None = None


def _maybe(value: strawberry.ID | None, field: str) -> int | None:
    return parse_id(value, field) if value is not None else None


@strawberry.type
class TimelineMutations:
    @strawberry.mutation(permission_classes=[CanCollect])
    async def add_note(self, info: Info, input: AddNoteInput) -> Note:
        view = await perform(
            info,
            c.AddNote(parse_id(input.customer_id, "customerId"), input.text, _maybe(input.invoice_id, "invoiceId")),
        )
        return Note.of(view)

    @strawberry.mutation(permission_classes=[CanCollect])
    async def log_call(self, info: Info, input: LogCallInput) -> Note:
        view = await perform(
            info,
            c.LogCall(
                parse_id(input.customer_id, "customerId"),
                input.outcome.value,
                _maybe(input.invoice_id, "invoiceId"),
                input.note,
            ),
        )
        return Note.of(view)

    @strawberry.mutation(
        permission_classes=[CanCollect], description="Store a file (size- and type-checked) on a customer."
    )
    async def add_attachment(self, info: Info, input: AddAttachmentInput) -> Attachment:
        view = await perform(
            info,
            c.AddAttachment(
                parse_id(input.customer_id, "customerId"),
                input.filename,
                input.content_type,
                input.content_base64,
                _maybe(input.note_id, "noteId"),
                _maybe(input.dispute_id, "disputeId"),
            ),
        )
        return Attachment.of(view)
