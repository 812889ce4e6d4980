"""Contacts: the CSV import (all rows or none, FILE:LINE), the service's checks, the schema step
that turns the customer's email into a billing contact; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_import import count, run, write

from engine.notices.contacts import ContactFields
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.store.upgrades import STEPS
from states.errors import NotFound, ValidationFailed

CUSTOMERS = """external_ref,name,segment,currency,credit_limit,email
C1,Acme GmbH,enterprise,EUR,50000.00,ap@acme.example
C2,"Beta, Ltd",smb,GBP,1000,
"""


def contacts(store: Store) -> list[tuple]:
    with read_only(store) as uow:
        return [
            tuple(r)
            for r in uow.select(
                "SELECT c.external_ref, k.role, k.name, k.email, k.phone, k.language, k.opt_out "
                "FROM contact k JOIN customer c ON c.id = k.customer ORDER BY k.id"
            )
        ]


def test_imported_contacts_are_normalized_and_the_customer_email_is_the_first_billing_contact(
    ctx: Context, tmp_path: Path
) -> None:
    assert run(ctx, "customers", write(tmp_path, "customers.csv", CUSTOMERS)).ok
    result = run(
        ctx,
        "contacts",
        write(
            tmp_path,
            "contacts.csv",
            "customer_ref,role,name,email,phone,language,postal_address,opt_out\n"
            'C1,ap,Jane Roe,Jane@Acme.example,+49 30 901820,de,"Acme GmbH\nHauptstr. 1\n10115 Berlin",sms\n'
            "C2,,,,+44 20 7946 0958,en-GB,,\n",
        ),
    )
    assert result.ok, result.report()
    assert result.written["contacts"] == 2
    rows = contacts(ctx.store)
    assert [r[:6] for r in rows] == [
        ("C1", "billing", None, "ap@acme.example", None, None),
        ("C1", "ap", "Jane Roe", "Jane@acme.example", "+4930901820", "de"),
        ("C2", "billing", None, None, "+442079460958", "en-GB"),
    ]
    assert "sms" in str(rows[1][6])


def test_bad_contact_rows_are_each_reported_with_their_line_and_nothing_is_written(
    ctx: Context, tmp_path: Path
) -> None:
    assert run(ctx, "customers", write(tmp_path, "customers.csv", CUSTOMERS)).ok
    before = count(ctx.store, "contact")
    result = run(
        ctx,
        "contacts",
        write(
            tmp_path,
            "contacts.csv",
            "customer_ref,role,email,phone,language\n"
            "C1,billing,good@acme.example,,en\n"
            "C1,billing,not-an-address,,en\n"
            "C1,billing,,12345,en\n"
            "C1,billing,x@acme.example,,klingon\n"
            "C9,billing,x@acme.example,,en\n"
            "C1,boss,x@acme.example,,en\n"
            "C1,billing,,,en\n",
        ),
    )
    report = result.report("contacts.csv")
    assert [line.split(":")[1] for line in report] == ["3", "4", "5", "6", "7", "8"]
    assert "not an email address" in report[0]
    assert "phone number" in report[1]
    assert "unknown language 'klingon'" in report[2]
    assert "customer 'C9' does not exist" in report[3]
    assert "unknown role 'boss'" in report[4]
    assert "needs an email, a phone or a postal address" in report[5]
    assert count(ctx.store, "contact") == before


def test_contacts_through_the_service_are_checked_changed_and_removed(service: Collections, tmp_path: Path) -> None:
    assert run(service.ctx, "customers", write(tmp_path, "customers.csv", CUSTOMERS)).ok
    with read_only(service.ctx.store) as uow:
        c2 = int(uow.select("SELECT id FROM customer WHERE external_ref = 'C2'")[0])
    added = service.add_contact(c2, ContactFields(role="ap", email="pay@beta.example", language="fr-ca"))
    assert (added.role, added.email, added.language) == ("ap", "pay@beta.example", "fr-CA")
    changed = service.update_contact(added.id, {"phone": "+33 1 42 68 53 00", "opt_out": ("email",)})
    assert (changed.phone, changed.opt_out, changed.email) == ("+33142685300", ("email",), "pay@beta.example")
    with pytest.raises(ValidationFailed) as bad:
        service.update_contact(added.id, {"phone": "+1 555"})
    assert bad.value.field == "phone"
    assert contacts(service.ctx.store)[-1][4] == "+33142685300"  # nothing written by the refused change
    assert service.remove_contact(added.id) == c2
    with pytest.raises(NotFound):
        service.remove_contact(added.id)


def test_the_schema_step_turns_each_customer_email_into_a_billing_contact_and_old_notices_into_messages(
    ctx: Context, tmp_path: Path
) -> None:
    assert run(ctx, "customers", write(tmp_path, "customers.csv", CUSTOMERS)).ok
    step = next(s for s in STEPS if "contacts" in s.description)
    with read_only(ctx.store) as uow:
        uow.execute("DELETE FROM contact")  # as before the step: customers with an email, no contacts
        c1 = int(uow.select("SELECT id FROM customer WHERE external_ref = 'C1'")[0])
        uow.execute(
            "INSERT INTO invoice (customer, number, issue_date, due_date, currency, amount, open_amount, state, "
            "dunning_level, version, created_at, updated_at) VALUES "
            f"({c1}, 'I1', '2026-01-01', '2026-01-31', 'EUR', 100, 100, 'overdue', 0, 1, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00'), "
            f"({c1}, 'I2', '2026-01-01', '2026-01-31', 'EUR', 100, 100, 'overdue', 0, 1, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        uow.execute(
            "INSERT INTO notice (invoice, customer, kind, channel, template, level, business_date, rule, strategy, "
            f"created_at) SELECT id, {c1}, 'dun', 'email', 't1', 1, '2026-02-03', 'r', 's', "
            "'2026-02-03 00:00:00' FROM invoice"
        )
        for sql in step.statements:
            uow.execute(sql)
        assert [tuple(r) for r in uow.select("SELECT customer, role, email FROM contact")] == [
            (c1, "billing", "ap@acme.example")
        ]
        messages = [tuple(r) for r in uow.select("SELECT id, channel, state FROM notice_message")]
        assert [m[1:] for m in messages] == [("email", "cancelled")]
        assert {int(r) for r in uow.select("SELECT message FROM notice")} == {messages[0][0]}
