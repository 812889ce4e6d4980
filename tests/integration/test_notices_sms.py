"""SMS through a Twilio-compatible HTTP API: a real `http.server` thread stands in for the provider.
The cycle's email notice falls back to SMS for customers with only a phone; the provider accepts one
number, answers 400 / error 21211 for another (bounced, with a collector task) and 503 for a third
(retried later); every request carries basic auth and an idempotency key derived from the notice id.
A refused email marks the contact's email invalid and the message falls back to its phone by SMS."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
from cycle_support import Portfolio, clear_cycle_tables, rows, shipped_strategies
from graphql_harness import data, run
from smtp_support import smtp_inbox
from starlette.applications import Starlette

from api.delivery_hooks import delivery_route
from api.metrics import read_recorded
from engine.config import Settings, load_settings
from engine.cycle.runner import run_cycle
from engine.notices.channels import Outgoing, Refused, Unavailable, adapters_from, channel_status
from engine.notices.contacts import ContactFields
from engine.notices.render import render_pending
from engine.notices.reports import SIGNATURE_HEADER
from engine.notices.send import send_due
from engine.notices.sms_http import IDEMPOTENCY_HEADER, HttpSms
from engine.notices.templates import load
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 2)
INVALID, BUSY = "+4915100000000", "+4915100000001"


class Provider(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.received.append({"path": self.path, "headers": dict(self.headers), "form": form})
        if form.get("To") == INVALID:
            self._answer(400, {"code": 21211, "message": f"The 'To' number {INVALID} is not valid.", "status": 400})
        elif form.get("To") == BUSY:
            self._answer(503, {"code": 20503, "message": "Service unavailable", "status": 503})
        else:
            self._answer(201, {"sid": f"SM{len(self.received):032d}", "status": "queued"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def provider() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (Provider,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _env(url: str) -> dict[str, str]:
    return {"O2C_SMS_URL": url, "O2C_SMS_ACCOUNT": "AC123", "O2C_SMS_TOKEN": "tok", "O2C_SMS_FROM": "+4930000000"}


def _settings(url: str) -> Settings:
    return load_settings(_env(url))


MESSAGE = Outgoing(7, "sms", "+4915112345678", None, "Please pay INV-1.", None, None, TODAY, "C1")


def test_the_provider_gets_a_form_post_with_basic_auth_and_the_notice_idempotency_key(
    provider: tuple[list[dict[str, Any]], str],
) -> None:
    received, url = provider
    adapter = adapters_from(_settings(url))["sms"]
    delivery = adapter.send(MESSAGE)
    adapter.finish()
    (request,) = received
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["form"] == {"To": "+4915112345678", "From": "+4930000000", "Body": "Please pay INV-1."}
    assert request["headers"][IDEMPOTENCY_HEADER] == "notice-7"
    assert request["headers"]["Authorization"].startswith("Basic ")
    assert delivery == f"accepted by {url.removeprefix('http://')} as SM{1:032d}"


def test_an_invalid_number_is_refused_and_a_provider_outage_or_closed_port_is_unavailable(
    provider: tuple[list[dict[str, Any]], str],
) -> None:
    _, url = provider
    adapter = adapters_from(_settings(url))["sms"]
    with pytest.raises(Refused, match="400 error 21211"):
        adapter.send(Outgoing(8, "sms", INVALID, None, "x", None, None, TODAY, "C1"))
    with pytest.raises(Unavailable, match="503"):
        adapter.send(Outgoing(9, "sms", BUSY, None, "x", None, None, TODAY, "C1"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(Unavailable):
        adapters_from(_settings(f"http://127.0.0.1:{closed}"))["sms"].send(MESSAGE)


def test_incomplete_sms_settings_are_refused_and_the_status_never_shows_the_token() -> None:
    with pytest.raises(ValidationFailed):
        HttpSms("ftp://sms.example", "AC1", "tok", "+49300")
    with pytest.raises(ValidationFailed):
        adapters_from(load_settings({"O2C_SMS_URL": "https://sms.example", "O2C_SMS_FROM": "+49300"}))
    status = channel_status(_settings("https://user:secret@sms.example"))
    assert status["sms"] == "http sms.example" and "secret" not in str(status)


@pytest.fixture
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.mark.usefixtures("_clean")
def test_cycle_messages_fall_back_to_sms_and_the_provider_answers_decide_sent_bounced_or_retry(
    ctx: Context, service: Collections, provider: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = provider
    strategies = shipped_strategies()
    book = Portfolio(service, TODAY)
    phones = {"ok": "+4915112345678", "invalid": INVALID, "busy": BUSY}
    for name in phones:
        book.customer(name, "smb", "low")
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    for name, phone in phones.items():
        service.add_contact(book.customers[name], ContactFields(phone=phone))
        book.invoice(name, 5)
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())

    outcome = send_due(ctx.store, load(ROOT / "templates"), strategies, adapters_from(_settings(url)), ctx.now())

    assert (outcome.sent, outcome.bounced, outcome.retrying) == (1, 1, 1)
    states = dict(
        rows(ctx.store, "SELECT c.external_ref, m.state FROM notice_message m JOIN customer c ON c.id = m.customer")
    )
    assert states == {"ok": "sent", "invalid": "bounced", "busy": "queued"}
    ids = {r["form"]["To"]: r["headers"][IDEMPOTENCY_HEADER] for r in received}
    by_customer = dict(rows(ctx.store, "SELECT recipient, id FROM notice_message WHERE state = 'sent'"))
    assert ids["+4915112345678"] == f"notice-{by_customer['+4915112345678']}"
    (delivery,) = rows(ctx.store, "SELECT delivery FROM notice_message WHERE state = 'sent'")
    assert delivery.startswith("accepted by 127.0.0.1")
    (note,) = rows(ctx.store, "SELECT note FROM collector_task WHERE note LIKE '%bounced%'")
    assert INVALID in note and "21211" in note
    (error,) = rows(ctx.store, "SELECT error FROM notice_message WHERE state = 'queued'")
    assert error.startswith("503")


@pytest.mark.usefixtures("_clean")
def test_a_refused_email_marks_the_contact_email_invalid_and_the_message_falls_back_to_sms(
    ctx: Context, service: Collections, provider: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = provider
    strategies = shipped_strategies()
    book = Portfolio(service, TODAY)
    book.customer("both", "smb", "low")  # smb-standard sends email, sms and letters
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    contact = service.add_contact(
        book.customers["both"], ContactFields(email="ap@refuse.example", phone="+4915112345678")
    )
    book.invoice("both", 5)
    run_cycle(ctx, strategies, TODAY)
    templates = load(ROOT / "templates")
    render_pending(ctx.store, templates, strategies, ctx.now())
    with smtp_inbox() as (inbox, port):
        adapters = adapters_from(load_settings({**_env(url), "O2C_SMTP_URL": f"smtp://127.0.0.1:{port}"}))
        first = send_due(ctx.store, templates, strategies, adapters, ctx.now())
        (state, via, error) = rows(ctx.store, "SELECT state, via, error FROM notice_message")[0]
        second = send_due(ctx.store, templates, strategies, adapters, ctx.now())

    assert (first.fell_back, first.sent, first.bounced) == (1, 0, 0)
    assert (state, via) == ("queued", "sms") and error.startswith("550") and error.endswith("falling back to sms")
    assert rows(ctx.store, "SELECT invalid_channels FROM contact") == ["email"]
    query = f'{{ customer(id: "{book.customers["both"]}") {{ contacts {{ invalidChannels }} }} }}'
    assert data(run(ctx, query))["customer"]["contacts"] == [{"invalidChannels": ["EMAIL"]}]
    assert (second.sent, second.bounced) == (1, 0) and inbox.messages == []
    (request,) = received
    assert request["form"]["To"] == "+4915112345678"
    assert rows(ctx.store, "SELECT state, via, recipient FROM notice_message") == [("sent", "sms", "+4915112345678")]
    assert rows(ctx.store, "SELECT note FROM collector_task WHERE note LIKE '%bounced%'") == []

    service.update_contact(contact.id, {"email": "ap@acme.example"})  # a new address: usable again
    assert rows(ctx.store, "SELECT invalid_channels FROM contact") == [""]


@pytest.mark.usefixtures("_clean")
def test_with_no_other_channel_left_a_refusal_bounces_with_a_collector_task_and_marks_the_channel(
    ctx: Context, service: Collections, provider: tuple[list[dict[str, Any]], str]
) -> None:
    _, url = provider
    strategies = shipped_strategies()
    book = Portfolio(service, TODAY)
    book.customer("only", "smb", "low")
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    contact = service.add_contact(book.customers["only"], ContactFields(phone=INVALID))
    book.invoice("only", 5)
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())

    outcome = send_due(ctx.store, load(ROOT / "templates"), strategies, adapters_from(_settings(url)), ctx.now())

    assert (outcome.bounced, outcome.fell_back) == (1, 0)
    assert rows(ctx.store, "SELECT invalid_channels FROM contact") == ["sms"]
    service.update_contact(contact.id, {"name": "Accounts"})  # not the phone: sms stays invalid
    assert rows(ctx.store, "SELECT invalid_channels FROM contact") == ["sms"]


SECRET = "hook-secret"


@pytest.fixture
def hooks(ctx: Context) -> Iterator[str]:
    """The delivery-report route served by a real uvicorn server on a free port."""
    app = Starlette(routes=[delivery_route(ctx, SECRET)])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{port}/hooks/delivery"
    server.should_exit = True
    thread.join()


def _post(url: str, body: bytes, content_type: str = "application/json", secret: str = SECRET) -> httpx.Response:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(url, content=body, headers={"Content-Type": content_type, SIGNATURE_HEADER: signature})


@pytest.mark.usefixtures("_clean")
def test_delivery_reports_move_sent_messages_and_refuse_bad_signatures_and_unknown_ids(
    ctx: Context, service: Collections, provider: tuple[list[dict[str, Any]], str], hooks: str
) -> None:
    _, url = provider
    strategies = shipped_strategies()
    book = Portfolio(service, TODAY)
    phones = {"a": "+4915112345678", "b": "+4915112345679", "c": "+4915112345670"}
    for name in phones:
        book.customer(name, "smb", "low")
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    for name, phone in phones.items():
        service.add_contact(book.customers[name], ContactFields(phone=phone))
        book.invoice(name, 5)
    run_cycle(ctx, strategies, TODAY)
    templates = load(ROOT / "templates")
    render_pending(ctx.store, templates, strategies, ctx.now())
    assert send_due(ctx.store, templates, strategies, adapters_from(_settings(url)), ctx.now()).sent == 3
    ids = dict(rows(ctx.store, "SELECT recipient, id FROM notice_message"))
    a, b, c = (ids[p] for p in phones.values())
    sid_of_b = rows(ctx.store, "SELECT delivery FROM notice_message WHERE id = $i", {"i": b})[0].split(" as ")[1]
    before = rows(ctx.store, "SELECT id, state, version FROM notice_message ORDER BY id")

    bad_signature = _post(f"{hooks}/email", json.dumps({"notice": a, "status": "delivered"}).encode(), secret="x")
    unknown = _post(f"{hooks}/sms", json.dumps({"notice": 999999, "status": "delivered"}).encode())
    wrong_channel = _post(f"{hooks}/email", json.dumps({"notice": a, "status": "delivered"}).encode())
    unreadable = _post(f"{hooks}/sms", b'{"notice": 1, "status": "lost"}')
    unsigned = httpx.post(f"{hooks}/sms", json={"notice": a, "status": "delivered"})
    assert [r.status_code for r in (bad_signature, unknown, wrong_channel, unreadable, unsigned)] == [
        401, 404, 404, 422, 401
    ]  # fmt: skip
    assert unreadable.json()["error"] == {"code": "VALIDATION_FAILED", "message": unreadable.json()["error"]["message"],
                                          "field": "status"}  # fmt: skip
    assert rows(ctx.store, "SELECT id, state, version FROM notice_message ORDER BY id") == before

    delivered = _post(f"{hooks}/sms", json.dumps({"notice": f"notice-{a}", "status": "delivered"}).encode())
    form = "application/x-www-form-urlencoded"
    interim = _post(f"{hooks}/sms", f"MessageSid={sid_of_b}&MessageStatus=sending".encode(), form)
    bounced = _post(f"{hooks}/sms", f"MessageSid={sid_of_b}&MessageStatus=undelivered&ErrorCode=30005".encode(), form)
    failed = _post(f"{hooks}/sms", json.dumps({"notice": c, "status": "failed", "reason": "expired"}).encode())
    again = _post(f"{hooks}/sms", json.dumps({"notice": a, "status": "failed"}).encode())

    assert [r.json()["state"] for r in (delivered, interim, bounced, failed, again)] == [
        "delivered", "sent", "bounced", "failed", "delivered"
    ]  # fmt: skip
    states = dict(rows(ctx.store, "SELECT id, state FROM notice_message"))
    assert states == {a: "delivered", b: "bounced", c: "failed"}
    history = rows(ctx.store, "SELECT type FROM outbox WHERE type IN ('o2c.notice.delivered', 'o2c.notice.bounced', "
                              "'o2c.notice.failed') ORDER BY id")  # fmt: skip
    assert history == ["o2c.notice.delivered", "o2c.notice.bounced", "o2c.notice.failed"]
    assert rows(ctx.store, "SELECT invalid_channels FROM contact WHERE phone = $p", {"p": phones["b"]}) == ["sms"]
    by_outcome = {(ch, st): n for ch, st, n in read_recorded(ctx.store).notices}  # what /metrics reports
    assert by_outcome == {("sms", "delivered"): 1, ("sms", "bounced"): 1, ("sms", "failed"): 1}
