"""A customer's timeline, written by people: notes, logged calls, attachments. Each is an event
(`o2c.note.added`, `o2c.call.logged`, `o2c.attachment.added`) in the same transaction."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from engine.clock import loaded, stored
from engine.files import check, store_file
from engine.journal import emit
from engine.policy.attachments import attachment_policy
from engine.services.common import find_invoice, get, require_reason
from engine.services.context import Context
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, transact
from states.actors import Actor
from states.errors import ValidationFailed
from states.task import OUTCOMES as CALL_OUTCOMES

NOTE_ADDED, CALL_LOGGED, ATTACHMENT_ADDED = "o2c.note.added", "o2c.call.logged", "o2c.attachment.added"
EVENT_TYPES = (NOTE_ADDED, CALL_LOGGED, ATTACHMENT_ADDED)
MAX_TEXT = 4000
MAX_NAME = 200


@dataclass(frozen=True)
class NoteView:
    id: int
    customer_id: int
    invoice_id: int | None
    kind: str
    text: str
    call_outcome: str | None
    author: str
    at: datetime

    @staticmethod
    def of(n: Entity) -> NoteView:
        return NoteView(
            n.id, n.customer.id, n.invoice.id if n.invoice else None, n.kind, n.text or "", n.call_outcome, n.author,
            loaded(n.at),
        )  # fmt: skip


@dataclass(frozen=True)
class AttachmentView:
    id: int
    customer_id: int
    note_id: int | None
    dispute_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    at: datetime

    @staticmethod
    def of(a: Entity) -> AttachmentView:
        return AttachmentView(
            a.id, a.customer.id, a.note.id if a.note else None, a.dispute.id if a.dispute else None, a.filename,
            a.content_type, a.size, a.sha256, a.uploaded_by, loaded(a.at),
        )  # fmt: skip


def add_note(ctx: Context, customer_id: int, invoice_id: int | None, text: str, actor: Actor) -> NoteView:
    return _write_note(ctx, customer_id, invoice_id, "note", text, None, actor)


def log_call(
    ctx: Context, customer_id: int, invoice_id: int | None, outcome: str, text: str | None, actor: Actor
) -> NoteView:
    if outcome not in CALL_OUTCOMES:
        raise ValidationFailed(f"unknown call outcome '{outcome}'; one of {', '.join(CALL_OUTCOMES)}", "outcome")
    return _write_note(ctx, customer_id, invoice_id, "call", text or "", outcome, actor)


def _write_note(
    ctx: Context, customer_id: int, invoice_id: int | None, kind: str, text: str, outcome: str | None, actor: Actor
) -> NoteView:
    body = require_reason(text, "text") if kind == "note" else text.strip()
    if len(body) > MAX_TEXT:
        raise ValidationFailed(f"a note has at most {MAX_TEXT} characters", "text")

    def work(uow: UnitOfWork) -> NoteView:
        customer = get(uow, "Customer", customer_id)
        inv = find_invoice(uow, customer, invoice_id, None) if invoice_id is not None else None
        now = ctx.now()
        n = uow.CustomerNote(
            customer=customer,
            invoice=inv,
            kind=kind,
            text=body,
            call_outcome=outcome,
            author=str(actor),
            at=stored(now),
        )
        uow.flush()
        view = NoteView.of(n)
        emit(
            uow,
            type=CALL_LOGGED if kind == "call" else NOTE_ADDED,
            entity_type="note",
            entity_id=n.id,
            entity_version=1,
            customer_id=customer.id,
            at=now,
            data={"invoiceId": view.invoice_id, "text": body, "outcome": outcome, "author": view.author},
        )
        return view

    return transact(ctx.store, work)


def add_attachment(
    ctx: Context,
    customer_id: int,
    filename: str,
    declared_type: str,
    content_base64: str,
    actor: Actor,
    note_id: int | None = None,
    dispute_id: int | None = None,
) -> AttachmentView:
    """Checked (size, sniffed type) before anything is stored; the metadata row and its event
    commit together; the bytes are written first, under their digest (an orphan file after a
    failed commit is harmless and reused by the next upload of the same bytes)."""
    name = require_reason(filename, "filename")
    if len(name) > MAX_NAME or "/" in name or "\\" in name:
        raise ValidationFailed(f"a file name has at most {MAX_NAME} characters and no path", "filename")
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("the content is not valid base64", "content") from None
    kind = check(content, declared_type, attachment_policy(ctx.settings.policy_dir))

    def work(uow: UnitOfWork) -> AttachmentView:
        customer = get(uow, "Customer", customer_id)
        note = get(uow, "CustomerNote", note_id) if note_id is not None else None
        dispute = get(uow, "Dispute", dispute_id) if dispute_id is not None else None
        for owner, what in ((note, "note"), (dispute, "dispute")):
            if owner is not None and owner.customer.id != customer.id:
                raise ValidationFailed(f"the {what} belongs to another customer", f"{what}_id")
        saved = store_file(ctx.settings.files_dir, content, kind)
        now = ctx.now()
        a = uow.Attachment(
            customer=customer, note=note, dispute=dispute, filename=name, content_type=saved.content_type,
            size=saved.size, sha256=saved.sha256, path=saved.path, uploaded_by=str(actor), at=stored(now),
        )  # fmt: skip
        uow.flush()
        view = AttachmentView.of(a)
        emit(
            uow,
            type=ATTACHMENT_ADDED,
            entity_type="attachment",
            entity_id=a.id,
            entity_version=1,
            customer_id=customer.id,
            at=now,
            data={"filename": name, "contentType": kind, "size": saved.size, "sha256": saved.sha256},
        )
        return view

    return transact(ctx.store, work)
