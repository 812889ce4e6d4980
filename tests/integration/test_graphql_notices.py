"""Notices and contacts through GraphQL, in-process on SQLite and PostgreSQL: the connection and its
filter, one notice with content and history, Invoice.notices, previewNotice writing nothing,
cancelNotice, contact mutations with typed errors, the statement PDF."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from cycle_support import clear_cycle_tables, shipped_strategies
from graphql_harness import codes, data, run, seed_portfolio
from pypdf import PdfReader

from engine.cycle.runner import run_cycle
from engine.notices.render import render_pending
from engine.notices.templates import load
from engine.queries import events
from engine.service import Collections

ROOT = Path(__file__).resolve().parents[2]


def _cycle(service: Collections) -> None:
    clear_cycle_tables(service.ctx.store)
    strategies = shipped_strategies()
    run_cycle(service.ctx, strategies, service.ctx.today())
    render_pending(service.ctx.store, load(ROOT / "templates"), strategies, service.ctx.now())


def _with_contacts(service: Collections) -> None:
    seed_portfolio(service, customers=2, invoices_each=3)
    for cid in (1, 2):
        added = run(
            service.ctx,
            'mutation($c: ID!) { addContact(customerId: $c, input: {name: "AP", email: "ap@x.example", '
            'phone: "+49 151 12345678", language: "de", optOut: [SMS]}) { id role email phone language optOut } }',
            {"c": str(cid)},
        )
        assert data(added)["addContact"]["phone"] == "+4915112345678"


def test_notices_are_listed_filtered_and_read_with_their_content_history_and_invoices(service: Collections) -> None:
    _with_contacts(service)
    _cycle(service)
    listed = data(
        run(
            service.ctx,
            '{ notices(filter: {customerId: "1", channel: EMAIL, status: [RENDERED]}, first: 10) { totalCount '
            "nodes { id state via recipient language lines { number level kind } } } }",
        )
    )["notices"]
    assert listed["totalCount"] == 1
    (node,) = listed["nodes"]
    assert (node["state"], node["via"], node["recipient"], node["language"]) == (
        "RENDERED",
        "EMAIL",
        "ap@x.example",
        "de",
    )
    assert [line["number"] for line in node["lines"]] == ["INV-0-0", "INV-0-1", "INV-0-2"]
    one = data(
        run(
            service.ctx,
            "query($id: ID!) { notice(id: $id) { content { subject text html } "
            "history { fromState toState trigger } } }",
            {"id": node["id"]},
        )
    )["notice"]
    assert "INV-0-2" in one["content"]["text"] and one["content"]["html"].startswith("<!DOCTYPE html>")
    assert [(h["fromState"], h["toState"]) for h in one["history"]] == [(None, "requested"), ("requested", "rendered")]
    invoice = data(run(service.ctx, '{ invoice(id: "1") { notices { id state } } }'))["invoice"]
    assert invoice["notices"] == [{"id": node["id"], "state": "RENDERED"}]
    empty = data(run(service.ctx, '{ notices(filter: {from: "2030-01-01"}) { totalCount } }'))["notices"]
    assert empty["totalCount"] == 0


def test_preview_renders_for_the_customer_and_writes_nothing(service: Collections) -> None:
    _with_contacts(service)
    before = events.last_position(service.ctx.store)
    preview = data(
        run(
            service.ctx,
            '{ previewNotice(customerId: "1", template: "smb_dunning_2", channel: SMS, language: "en") '
            "{ channel language text segments encoding } }",
        )
    )["previewNotice"]
    assert preview["channel"] == "SMS" and preview["segments"] >= 1 and preview["encoding"] == "GSM-7"
    assert "C0" in preview["text"]
    letter = data(
        run(service.ctx, '{ previewNotice(customerId: "1", template: "smb_dunning_3", channel: LETTER) { pdfBase64 } }')
    )["previewNotice"]
    assert base64.b64decode(letter["pdfBase64"]).startswith(b"%PDF")
    missing = run(service.ctx, '{ previewNotice(customerId: "1", template: "nope", channel: EMAIL) { text } }')
    assert codes(missing) == ["VALIDATION_FAILED"]
    assert events.last_position(service.ctx.store) == before


def test_cancel_notice_stops_a_message_once_and_says_why(service: Collections) -> None:
    _with_contacts(service)
    _cycle(service)
    query = 'mutation($id: ID!) { cancelNotice(id: $id, reason: "customer called, paying today") { state error } }'
    first = data(run(service.ctx, query, {"id": "1"}))["cancelNotice"]
    assert first == {"state": "CANCELLED", "error": "customer called, paying today"}
    assert codes(run(service.ctx, query, {"id": "1"})) == ["INVALID_TRANSITION"]
    assert codes(run(service.ctx, query, {"id": "999"})) == ["NOT_FOUND"]
    assert codes(run(service.ctx, query, {"id": "2"}, role="viewer")) == ["FORBIDDEN"]


def test_contacts_are_read_on_the_customer_and_a_bad_phone_is_refused_naming_the_field(service: Collections) -> None:
    _with_contacts(service)
    bad = run(service.ctx, 'mutation { addContact(customerId: "1", input: {phone: "12345"}) { id } }')
    assert codes(bad) == ["VALIDATION_FAILED"]
    assert bad.errors is not None and (bad.errors[0].extensions or {}).get("field") == "input.phone"
    contacts = data(run(service.ctx, '{ customer(id: "1") { contacts { role email optOut } } }'))["customer"]
    assert contacts["contacts"] == [{"role": "billing", "email": "ap@x.example", "optOut": ["SMS"]}]
    changed = data(
        run(
            service.ctx,
            'mutation { updateContact(input: {id: "1", language: "fr-CA", optOut: []}) { language optOut } }',
        )
    )["updateContact"]
    assert changed == {"language": "fr-CA", "optOut": []}
    pdf = data(run(service.ctx, '{ customer(id: "1") { statementPdf } }'))["customer"]["statementPdf"]
    text = PdfReader(io.BytesIO(base64.b64decode(pdf))).pages[0].extract_text()
    assert "INV-0-0" in text and "Statement of account C0" in text
