"""The customer timeline on SQLite and PostgreSQL: notes, calls, transitions, payments, tasks and
blocks newest first, paged without loss; attachments checked and stored."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from graphql_harness import codes, data, run, seed_portfolio

from engine.clock import FixedClock
from engine.commands import AllocationLine, RecordPayment
from engine.config import Settings
from engine.queries.timeline import timeline
from engine.service import Collections
from engine.services.context import Context
from states.actors import person
from states.errors import NotFound, ValidationFailed

ALICE = person("alice")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


@pytest.fixture
def files(tmp_path: Path, ctx: Context) -> Path:
    folder = tmp_path / "files"
    ctx.settings = Settings(database_url=ctx.settings.database_url, files_dir=folder)
    return folder


def test_the_timeline_shows_everything_newest_first_and_pages_without_loss(
    ctx: Context, service: Collections, clock: FixedClock
) -> None:
    ids = seed_portfolio(service, customers=1, invoices_each=2)
    clock.advance(seconds=60)
    service.add_note(1, None, "asked for the remittance advice", ALICE)
    clock.advance(seconds=60)
    service.log_call(1, ids[0], "promise", "pays 300 on Friday", ALICE)
    clock.advance(seconds=60)
    service.apply_payment(
        RecordPayment(1, "P-1", 10_000, "EUR", clock.today(), (AllocationLine(10_000, ids[0]),)), ALICE
    )
    clock.advance(seconds=60)
    task = service.create_task(1, ids[1], "collections", "call back", ALICE)
    clock.advance(seconds=60)
    service.place_block(1, None, "negotiation", None, None, ALICE)
    everything = [e.node for e in timeline(ctx.store, 1, None, 100, None).edges]
    kinds = [(e.kind, e.entity_type) for e in everything]
    assert kinds[:6] == [
        ("transition", "dunning_block"),
        ("transition", "task"),
        ("transition", "invoice"),  # paid by the payment
        ("payment", "payment"),
        ("call", "note"),
        ("note", "note"),
    ]
    assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
    seen, after = [], None
    while True:
        page = timeline(ctx.store, 1, None, 2, after)
        seen += [(e.node.kind, e.node.id) for e in page.edges]
        if not page.has_next:
            break
        after = page.edges[-1].cursor
    assert seen == [(e.kind, e.id) for e in everything]
    about_second = [(e.node.kind, e.node.entity_type) for e in timeline(ctx.store, 1, ids[1], 100, None).edges]
    assert ("transition", "task") in about_second and ("call", "note") not in about_second
    assert task.invoice_id == ids[1]


def test_notes_and_calls_are_checked_and_change_nothing_when_wrong(ctx: Context, service: Collections) -> None:
    ids = seed_portfolio(service, customers=2, invoices_each=1)
    with pytest.raises(ValidationFailed) as empty:
        service.add_note(1, None, "   ", ALICE)
    assert empty.value.field == "text"
    with pytest.raises(ValidationFailed) as outcome:
        service.log_call(1, None, "shouted", None, ALICE)
    assert outcome.value.field == "outcome"
    with pytest.raises(ValidationFailed):
        service.add_note(1, ids[1], "about someone else's invoice", ALICE)
    with pytest.raises(NotFound):
        service.add_note(99, None, "nobody", ALICE)
    assert [e.node.kind for e in timeline(ctx.store, 1, None, 50, None).edges if e.node.kind in ("note", "call")] == []


def test_an_attachment_is_sniffed_size_checked_and_stored_once(ctx: Context, service: Collections, files: Path) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    note = service.add_note(1, None, "their proof of delivery", ALICE)
    saved = service.add_attachment(1, "pod.png", "application/pdf", _b64(PNG), ALICE, note_id=note.id)
    assert (saved.content_type, saved.size, saved.note_id) == ("image/png", len(PNG), note.id)
    assert (files / saved.sha256[:2] / saved.sha256).read_bytes() == PNG
    again = service.add_attachment(1, "copy.png", "image/png", _b64(PNG), ALICE)
    assert again.sha256 == saved.sha256 and len(list(files.rglob("*"))) == 2  # one folder, one file
    text = service.add_attachment(1, "notes.csv", "text/csv", _b64(b"invoice,amount\nINV-1,100.00\n"), ALICE)
    assert text.content_type == "text/csv"
    for content, field in (
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "content"),  # a Windows executable
        (b"", "content"),
        (b"x" * (5 * 1024 * 1024 + 1), "content"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            service.add_attachment(1, "f.bin", "application/pdf", _b64(content), ALICE)
        assert refused.value.field == field
    with pytest.raises(ValidationFailed) as path:
        service.add_attachment(1, "../../etc/passwd", "text/plain", _b64(b"x"), ALICE)
    assert path.value.field == "filename"
    with pytest.raises(ValidationFailed) as garbled:
        service.add_attachment(1, "a.txt", "text/plain", "not base64!", ALICE)
    assert garbled.value.field == "content"


TIMELINE = """query($id: ID!, $after: String) { customer(id: $id) {
  timeline(first: 3, after: $after) { pageInfo { hasNextPage endCursor } edges { node { kind summary actor } } } } }"""


def test_a_front_end_logs_a_call_and_reads_the_timeline(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    ctx = service.ctx
    logged = data(
        run(
            ctx,
            """mutation { logCall(input: {customerId: "1", outcome: VOICEMAIL, note: "left a message"}) {
        kind callOutcome author } }""",
        )
    )["logCall"]
    assert logged == {"kind": "CALL", "callOutcome": "voicemail", "author": "user:admin tester (key testkey)"}
    first = data(run(ctx, TIMELINE, {"id": "1"}))["customer"]["timeline"]
    assert "CALL" in [e["node"]["kind"] for e in first["edges"]]  # at one instant: transitions, then calls
    counted = run(ctx, 'query { customer(id: "1") { timeline(first: 1) { totalCount } } }')
    assert codes(counted) == ["VALIDATION_FAILED"]
