"""Sending: cycle → render → send to a real SMTP server in the test process (aiosmtpd), on SQLite
and PostgreSQL. One message per customer, invoices paid since rendering left out, a refused address
bounced with a collector task, a customer with nothing left cancelled, a second pass sends nothing;
letters to a directory with a manifest; an unconfigured channel stays queued."""

from __future__ import annotations

import csv
import email
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cycle_support import Portfolio, clear_cycle_tables, rows, shipped_strategies
from smtp_support import Inbox, smtp_inbox

from api.metrics import read_recorded
from engine.commands import AllocationLine, RecordPayment
from engine.config import load_settings
from engine.cycle.runner import run_cycle
from engine.notices.channels import Adapter, adapters_from
from engine.notices.contacts import ContactFields
from engine.notices.render import render_pending
from engine.notices.send import send_due
from engine.notices.templates import load
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.actors import Actor

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 2)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as served:
        yield served


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture(scope="module")
def strategies() -> StrategySet:
    return shipped_strategies()


def _send(ctx: Context, strategies: StrategySet, adapters: dict[str, Adapter]) -> dict[str, Any]:
    return send_due(ctx.store, load(ROOT / "templates"), strategies, adapters, ctx.now()).as_dict()


def _pay(service: Collections, customer: int, invoice: int, ref: str) -> None:
    service.apply_payment(
        RecordPayment(customer, ref, 100_000, "EUR", TODAY, (AllocationLine(invoice_id=invoice, amount=100_000),)),
        Actor("payment", "bank"),
    )


def test_cycle_render_send_reaches_the_smtp_server_once_per_customer_without_paid_invoices(
    ctx: Context, service: Collections, strategies: StrategySet, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    book = Portfolio(service, TODAY)
    a = book.customer("a", "smb", "low")
    kept, paid = book.invoice("a", 5), book.invoice("a", 6)
    b = book.customer("b", "smb", "low")
    b_only = book.invoice("b", 5)
    book.customer("refused", "smb", "low")
    book.invoice("refused", 5)
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("UPDATE contact SET email = 'ap@refuse.example' WHERE email = 'refused@example.com'")
        uow.commit()
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())
    _pay(service, a, paid, "P1")  # after rendering, before sending
    _pay(service, b, b_only, "P2")
    adapters = adapters_from(
        load_settings({"O2C_SMTP_URL": f"smtp://127.0.0.1:{port}", "O2C_MAIL_FROM": "credit@northwind.example"})
    )

    first = _send(ctx, strategies, adapters)

    assert (first["sent"], first["bounced"], first["cancelled"]) == (1, 1, 1)
    (mail,) = inbox.messages
    assert mail["To"] == "a@example.com" and mail["Message-ID"].startswith("<notice-")
    assert isinstance(mail, EmailMessage)
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None and mail.get_body(preferencelist=("html",)) is not None
    body = plain.get_content()
    kept_number, paid_number = (
        rows(ctx.store, "SELECT number FROM invoice WHERE id = $i", {"i": i})[0] for i in (kept, paid)
    )
    assert kept_number in body and paid_number not in body
    states = dict(
        rows(ctx.store, "SELECT c.external_ref, m.state FROM notice_message m JOIN customer c ON c.id = m.customer")
    )
    assert states == {"a": "sent", "b": "cancelled", "refused": "bounced"}
    (note,) = rows(ctx.store, "SELECT note FROM collector_task WHERE note LIKE '%bounced%'")
    assert "ap@refuse.example" in note and "550" in note
    sent_event = rows(ctx.store, "SELECT data FROM outbox WHERE type = 'o2c.notice.sent'")
    assert len(sent_event) == 1

    by_outcome = {(c, st): n for c, st, n in read_recorded(ctx.store).notices}  # what /metrics reports
    assert by_outcome == {("email", "sent"): 1, ("email", "bounced"): 1, ("email", "cancelled"): 1}

    second = _send(ctx, strategies, adapters)
    assert (second["sent"], second["bounced"], second["cancelled"]) == (0, 0, 0)
    assert len(inbox.messages) == 1


def test_letters_go_to_a_directory_with_a_daily_manifest_and_unconfigured_email_stays_queued(
    ctx: Context, service: Collections, strategies: StrategySet, tmp_path: Path
) -> None:
    book = Portfolio(service, TODAY)
    c = book.customer("postal", "smb", "high")  # smb-high-risk sends email, then letters
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    service.add_contact(c, ContactFields(postal_address="Postal Ltd\n1 Mill Lane\nLeeds"))
    book.invoice("postal", 5)
    book.customer("mailed", "smb", "low")
    book.invoice("mailed", 5)
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())

    outcome = _send(ctx, strategies, adapters_from(load_settings({"O2C_LETTER_DIR": str(tmp_path / "letters")})))

    assert (outcome["sent"], outcome["not_configured"]) == (1, 1)
    day = tmp_path / "letters" / TODAY.isoformat()
    (pdf,) = day.glob("notice-*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    with (day / "manifest.csv").open() as fh:
        (entry,) = list(csv.DictReader(fh))
    assert entry["customer"] == "postal" and entry["address"] == "Postal Ltd\n1 Mill Lane\nLeeds"
    queued = rows(ctx.store, "SELECT state, error FROM notice_message WHERE via = 'email'")
    assert queued == [("queued", "channel email is not configured")]


def test_the_file_transport_writes_eml_files_reported_as_written_not_delivered(
    ctx: Context, service: Collections, strategies: StrategySet, tmp_path: Path
) -> None:
    book = Portfolio(service, TODAY)
    book.customer("a", "smb", "low")
    book.invoice("a", 5)
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())

    outcome = _send(ctx, strategies, adapters_from(load_settings({"O2C_SMTP_URL": f"file:{tmp_path / 'mail'}"})))

    assert outcome["sent"] == 1
    (eml,) = (tmp_path / "mail").glob("*.eml")
    assert email.message_from_bytes(eml.read_bytes())["To"] == "a@example.com"
    (delivery,) = rows(ctx.store, "SELECT delivery FROM notice_message")
    assert delivery.startswith("written to file")


def test_the_recheck_drops_invoices_the_customer_unapplied_cash_in_their_currency_already_pays(
    ctx: Context, service: Collections, strategies: StrategySet, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    book = Portfolio(service, TODAY)
    a = book.customer("a", "smb", "low")
    small, large = book.invoice("a", 5, amount=100_000), book.invoice("a", 6, amount=300_000)
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())
    actor = Actor("payment", "bank")
    service.apply_payment(RecordPayment(a, "CASH-EUR", 150_000, "EUR", TODAY), actor)  # pays the small one only
    service.apply_payment(RecordPayment(a, "CASH-USD", 900_000, "USD", TODAY), actor)  # another currency: pays none

    outcome = _send(ctx, strategies, adapters_from(load_settings({"O2C_SMTP_URL": f"smtp://127.0.0.1:{port}"})))

    assert outcome["sent"] == 1
    small_number, large_number = (
        rows(ctx.store, "SELECT number FROM invoice WHERE id = $i", {"i": i})[0] for i in (small, large)
    )
    (mail,) = inbox.messages
    assert isinstance(mail, EmailMessage)
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    body = plain.get_content()
    assert large_number in body and small_number not in body
    (data,) = rows(ctx.store, "SELECT data FROM outbox WHERE type = 'o2c.notice.sent'")
    assert small_number in str(data) and "dropped" in str(data)
