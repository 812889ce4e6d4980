"""The render step after the cycle: one rendered message per customer and channel in the contact's
language, fallback to a letter when there is no email, a collector task when nobody can be reached
or the channel is the phone, settled invoices left out; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from cycle_support import DAILY_LADDER, Portfolio, as_json, clear_cycle_tables, rows, scalar, shipped_strategies
from pypdf import PdfReader

from engine.commands import AllocationLine, RecordPayment
from engine.cycle.runner import run_cycle
from engine.notices.contacts import ContactFields
from engine.notices.render import render_pending
from engine.notices.templates import load
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.strategies_in_force import load_registry
from states.actors import Actor
from states.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 2)  # the business date of the `clock` fixture


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture(scope="module")
def strategies() -> StrategySet:
    return shipped_strategies()


@pytest.fixture
def book(service: Collections) -> Portfolio:
    return Portfolio(service, TODAY)


def cycle_and_render(ctx: Context, strategies: StrategySet) -> tuple[int, int, int]:
    run_cycle(ctx, strategies, TODAY)
    out = render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())
    return out.rendered, out.cancelled, out.tasks


def messages(store: Store) -> list[tuple]:
    return [
        tuple(r)
        for r in rows(
            store, "SELECT id, channel, via, state, language, recipient, subject, body_text FROM notice_message"
        )
    ]


def test_a_customer_gets_one_rendered_email_in_its_language_listing_every_invoice(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet
) -> None:
    cid = book.customer("smb-low", "smb", "low")
    service.add_contact(cid, ContactFields(role="ap", name="Erika Muster", email="erika@smb.example", language="de"))
    for dpd in (5, 6, 7):
        book.invoice("smb-low", dpd)

    assert cycle_and_render(ctx, strategies) == (1, 0, 0)

    ((mid, channel, via, state, language, recipient, subject, body),) = messages(ctx.store)
    # the billing contact (from the customer's email) comes first; the language is the first one given
    assert (channel, via, state, recipient, language) == ("email", "email", "rendered", "smb-low@example.com", "de")
    assert subject == "Zahlungserinnerung: 3.000,00\xa0€ überfällig"
    for number in ("INV-00001", "INV-00002", "INV-00003"):
        assert f"Rechnung {number}" in body
    assert "Mahnstufe 1" in body
    events = rows(
        ctx.store,
        "SELECT type, entity_version, data FROM outbox WHERE entity_type = 'notice' AND entity_id = $m ORDER BY id",
        {"m": mid},
    )
    assert [(t, int(v)) for t, v, _ in events] == [("o2c.notice.requested", 1), ("o2c.notice.rendered", 2)]
    rendered = as_json(events[1][2])
    assert (rendered["channel"], rendered["recipient"]) == ("email", "smb-low@example.com")
    assert rendered["invoices"] == ["INV-00001", "INV-00002", "INV-00003"]
    assert rows(
        ctx.store,
        "SELECT from_state, to_state, trigger FROM transition_history WHERE entity_type = 'notice' ORDER BY id",
    ) == [(None, "requested", "request"), ("requested", "rendered", "render")]


def test_without_an_email_the_message_falls_back_to_a_letter_with_the_postal_address(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet
) -> None:
    cid = book.customer("smb-high", "smb", "high")  # smb-high-risk sends email and letters
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    service.add_contact(cid, ContactFields(name="Accounts", postal_address="SMB High Ltd\n1 Market St\nLeeds"))
    book.invoice("smb-high", 5)

    assert cycle_and_render(ctx, strategies) == (1, 0, 0)

    ((mid, channel, via, state, _lang, recipient, _subject, _body),) = messages(ctx.store)
    assert (channel, via, state) == ("email", "letter", "rendered")
    assert recipient == "SMB High Ltd\n1 Market St\nLeeds"
    document = rows(ctx.store, "SELECT document FROM notice_message WHERE id = $m", {"m": mid})[0]
    text = PdfReader(io.BytesIO(bytes(document))).pages[0].extract_text()
    assert "1 Market St" in text and "INV-00001" in text and "Northwind Supplies GmbH" in text
    cause = as_json(rows(ctx.store, "SELECT cause FROM transition_history WHERE to_state = 'rendered'")[0])
    assert cause["fallback_from"] == "email"


def test_a_customer_nobody_can_be_reached_at_gets_a_collector_task_and_no_message(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.execute("DELETE FROM contact")
        uow.commit()
    book.invoice("smb-low", 5)

    assert cycle_and_render(ctx, strategies) == (0, 1, 1)

    assert [m[3] for m in messages(ctx.store)] == ["cancelled"]
    (note,) = rows(ctx.store, "SELECT note FROM collector_task WHERE rule LIKE 'notice:%'")
    assert "No usable contact" in note and "INV-00001" in note
    assert scalar(ctx.store, "SELECT COUNT(*) FROM outbox WHERE type = 'o2c.notice.cancelled'") == 1


def test_an_invoice_paid_after_the_cycle_is_left_out_and_a_message_left_empty_is_cancelled(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet
) -> None:
    cid = book.customer("smb-low", "smb", "low")
    paid = book.invoice("smb-low", 5)
    run_cycle(ctx, strategies, TODAY)
    service.apply_payment(
        RecordPayment(
            customer_id=cid,
            reference="P1",
            amount=100_000,
            currency="EUR",
            received_on=TODAY,
            allocations=(AllocationLine(amount=100_000, invoice_id=paid),),
        ),
        Actor("payment", "bank"),
    )

    out = render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())

    assert (out.rendered, out.cancelled) == (0, 1)
    (error,) = rows(ctx.store, "SELECT error FROM notice_message")
    assert "settled" in error


def test_a_phone_message_becomes_a_collector_task_with_the_call_script(
    ctx: Context, book: Portfolio, tmp_path: Path
) -> None:
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "phone.yaml").write_text(
        DAILY_LADDER.replace(
            "dun: {channel: email, template: ladder_1}", "dun: {channel: phone, template: mm_dunning_call}"
        )
    )
    phone = load_registry(folder).current
    book.customer("mm", "mid_market", "high")
    book.invoice("mm", 5)

    assert cycle_and_render(ctx, phone) == (1, 0, 1)

    assert [(m[1], m[2], m[3]) for m in messages(ctx.store)] == [("phone", "phone", "rendered")]
    (note,) = rows(ctx.store, "SELECT note FROM collector_task WHERE rule LIKE 'notice:%'")
    assert note.startswith("Call ") and "INV-00001" in note and "promise to pay" in note


def test_a_template_given_a_nul_after_it_was_checked_is_a_typed_error_naming_its_line_and_renders_nothing(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet, tmp_path: Path
) -> None:
    cid = book.customer("smb-low", "smb", "low")
    service.add_contact(cid, ContactFields(role="ap", name="Erika Muster", email="erika@smb.example", language="de"))
    book.invoice("smb-low", 5)
    run_cycle(ctx, strategies, TODAY)
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    for path in templates.glob("*.email.de.j2"):
        path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n\x00", 1), encoding="utf-8")

    with pytest.raises(ValidationFailed) as refused:
        render_pending(ctx.store, load(templates), strategies, ctx.now())

    assert re.fullmatch(r".*/templates/\w+\.email\.de\.j2:2: syntax error: a NUL \(U\+0000\) character is not allowed",
                        refused.value.message), refused.value.message  # fmt: skip
    assert [(m[1], m[3]) for m in messages(ctx.store)] == [("email", "requested")]
