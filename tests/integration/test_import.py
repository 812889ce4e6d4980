"""CSV import: all rows or none, with FILE:LINE for every bad row; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main as o2c
from engine.importer import ImportResult, import_file
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import read_only

CUSTOMERS = """external_ref,name,segment,currency,credit_limit,payment_terms_days
C1,Acme GmbH,enterprise,EUR,50000.00,30
C2,"Beta, Ltd",smb,GBP,1000,14
"""
INVOICES = """customer_ref,number,issue_date,due_date,amount,currency
C1,INV-1,2026-01-01,,100.00,EUR
C1,INV-2,2026-01-05,2026-02-05,250.50,EUR
C2,INV-1,2026-02-01,,99.99,GBP
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run(ctx: Context, kind: str, path: Path) -> ImportResult:
    return import_file(ctx.store, kind, path, ctx.now(), ctx.today())


def count(store: Store, table: str, where: str = "") -> int:
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM {table} {where}")[0])


def load_ledger(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, "customers", write(tmp_path, "customers.csv", CUSTOMERS)).ok
    assert run(ctx, "invoices", write(tmp_path, "invoices.csv", INVOICES)).ok


def test_bad_customer_rows_are_each_reported_with_their_line_and_nothing_is_written(
    ctx: Context, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        "external_ref,name,segment,currency,credit_limit\n"
        "C1,Good One,smb,EUR,100.00\n"
        "C2,Bad Segment,retail,EUR,100.00\n"
        "C3,Float Money,smb,EUR,100.001\n"
        "C1,Twice,smb,EUR,5\n"
        "C4,Bad Currency,smb,EUX,5\n"
        'C5,"Two\nLines",smb,EUR,abc\n'
        "C6,,smb,EUR,5\n",
    )
    result = run(ctx, "customers", path)
    report = result.report("customers.csv")
    assert [line.split(":")[1] for line in report] == ["3", "4", "5", "6", "7", "9"]
    assert "unknown segment 'retail'" in report[0]
    assert "more than 2 decimals" in report[1]
    assert "appears twice (first on line 2)" in report[2]
    assert "unknown currency 'EUX'" in report[3]
    assert "'abc' is not a decimal amount" in report[4]
    assert "name is empty" in report[5]
    assert count(ctx.store, "customer") == 0
    assert count(ctx.store, "outbox") == 0


def test_bad_invoice_rows_against_the_database_are_reported_and_nothing_is_written(
    ctx: Context, tmp_path: Path
) -> None:
    load_ledger(ctx, tmp_path)
    path = write(
        tmp_path,
        "more.csv",
        "customer_ref,number,issue_date,due_date,amount,currency\n"
        "C1,INV-1,2026-01-01,,100.00,EUR\n"
        "C9,INV-3,2026-01-01,,100.00,EUR\n"
        "C1,INV-4,2026-13-01,,100.00,EUR\n"
        "C1,INV-5,2026-02-01,2026-01-01,1.00,EUR\n"
        "C1,INV-6,2026-02-01,,0,EUR\n"
        "C1,INV-7,2026-02-01,,1.00\n"
        "C2,INV-8,2026-02-01,,1.00,GBP\n",
    )
    before = (count(ctx.store, "invoice"), count(ctx.store, "transition_history"), count(ctx.store, "outbox"))
    result = run(ctx, "invoices", path)
    messages = {p.line: p.message for p in result.problems}
    assert set(messages) == {2, 3, 4, 5, 6, 7}
    assert "already exists for customer 'C1'" in messages[2]
    assert "customer 'C9' does not exist" in messages[3]
    assert "not a date" in messages[4]
    assert "due date is before the issue date" in messages[5]
    assert "must be positive" in messages[6]
    assert "expected 6 fields, found 5" in messages[7]
    after = (count(ctx.store, "invoice"), count(ctx.store, "transition_history"), count(ctx.store, "outbox"))
    assert after == before == (3, 3, 5)


def test_a_header_with_missing_and_unknown_columns_is_reported_on_line_one(ctx: Context, tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "customer_ref,number,amount,colour\nC1,1,2,red\n")
    result = run(ctx, "invoices", path)
    assert [p.line for p in result.problems] == [1, 1]
    assert "missing column(s): issue_date, currency" in result.problems[0].message
    assert "unknown column(s): colour" in result.problems[1].message


def test_good_files_write_customers_and_open_invoices_with_history_and_outbox(ctx: Context, tmp_path: Path) -> None:
    load_ledger(ctx, tmp_path)
    with read_only(ctx.store) as uow:
        inv = uow.Invoice.get(number="INV-1", customer=uow.Customer.get(external_ref="C1"))
        assert (inv.amount, inv.open_amount, inv.state, inv.version) == (10000, 10000, "open", 1)
        assert inv.due_date.isoformat() == "2026-01-31"  # issue date + the customer's 30 days
        history = list(uow.TransitionRecord.select(lambda h: h.entity_type == "invoice" and h.entity_id == inv.id))
        assert [(h.from_state, h.to_state, h.trigger, h.actor) for h in history] == [
            (None, "open", "issue", "import:invoices.csv")
        ]
        events = list(uow.OutboxEvent.select(lambda e: e.subject == f"invoices/{inv.id}"))
        assert [e.type for e in events] == ["o2c.invoice.issued"]
        assert events[0].data["snapshot"]["openAmount"] == "100.00"
        assert uow.Customer.get(external_ref="C2").name == "Beta, Ltd"
    assert count(ctx.store, "outbox", "WHERE type = 'o2c.customer.created'") == 2


def test_payments_lower_open_amounts_pay_invoices_and_keep_the_excess_as_credit(ctx: Context, tmp_path: Path) -> None:
    load_ledger(ctx, tmp_path)
    path = write(
        tmp_path,
        "payments.csv",
        "customer_ref,reference,received_on,amount,currency,invoice_number\n"
        "C1,P1,2026-02-01,100.00,EUR,INV-1\n"
        "C1,P1,2026-02-01,50.00,EUR,INV-2\n"
        "C1,P1,2026-02-01,10.00,EUR,\n"
        "C2,P2,2026-02-03,120.00,GBP,INV-1\n",
    )
    result = run(ctx, "payments", path)
    assert result.ok, result.report()
    with read_only(ctx.store) as uow:
        c1, c2 = uow.Customer.get(external_ref="C1"), uow.Customer.get(external_ref="C2")
        paid, partial = uow.Invoice.get(customer=c1, number="INV-1"), uow.Invoice.get(customer=c1, number="INV-2")
        assert (paid.state, paid.open_amount, str(paid.paid_on)) == ("paid", 0, "2026-02-01")
        assert (partial.state, partial.open_amount) == ("open", 20050)
        assert uow.Invoice.get(customer=c2, number="INV-1").state == "paid"
        p1 = uow.Payment.get(customer=c1, reference="P1")
        assert (p1.amount, p1.unapplied_amount) == (16000, 1000)
        assert sorted(a.amount for a in p1.allocations) == [5000, 10000]
        assert (c1.unapplied_credit, c2.unapplied_credit) == (1000, 2001)
        last = uow.TransitionRecord.select(lambda h: h.entity_id == paid.id and h.trigger == "pay").first()
        assert (last.from_state, last.to_state, last.entity_version) == ("open", "paid", paid.version)
        # the partly paid invoice's subscribers learn its new open amount, at the version it now has
        (changed,) = uow.OutboxEvent.select(lambda e: e.type == "o2c.invoice.amount_changed")[:]
        assert (changed.subject, changed.entity_version) == (f"invoices/{partial.id}", partial.version)
        assert changed.data["snapshot"]["openAmount"] == "200.50"
        assert changed.data["cause"]["reference"] == "P1"
    assert count(ctx.store, "outbox", "WHERE type = 'o2c.payment.applied'") == 2


def test_a_payment_for_an_invoice_already_paid_in_the_same_file_is_refused_and_nothing_is_paid(
    ctx: Context, tmp_path: Path
) -> None:
    load_ledger(ctx, tmp_path)
    path = write(
        tmp_path,
        "payments.csv",
        "customer_ref,reference,received_on,amount,currency,invoice_number\n"
        "C1,P1,2026-02-01,100.00,EUR,INV-1\n"
        "C1,P2,2026-02-02,1.00,EUR,INV-1\n"
        "C1,P3,2026-02-02,1.00,GBP,INV-2\n"
        "C1,P4,2026-02-02,1.00,EUR,INV-404\n",
    )
    result = run(ctx, "payments", path)
    messages = {p.line: p.message for p in result.problems}
    assert messages == {
        3: "invoice INV-1 is paid and takes no payment",
        4: "invoice INV-2 is in EUR, the payment in GBP",
        5: "invoice 'INV-404' of customer 'C1' does not exist",
    }
    assert count(ctx.store, "payment") == 0
    assert count(ctx.store, "invoice", "WHERE state = 'paid'") == 0


def test_the_cli_exits_non_zero_and_prints_file_and_line_for_each_bad_row(
    database_url: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    path = write(tmp_path, "c.csv", "external_ref,name,segment,currency,credit_limit\nA,A,smb,EUR,1\nB,B,xx,EUR,1\n")
    assert o2c(["import", "customers", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: unknown segment 'xx'" in err
    assert count(store, "customer") == 0


def test_a_nul_character_in_a_cell_is_reported_with_its_line_and_column_and_nothing_is_written(
    ctx: Context, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        "external_ref,name,segment,currency,credit_limit\nC1,Good One,smb,EUR,100.00\nC2,Ac\x00me,smb,EUR,100.00\n",
    )
    report = run(ctx, "customers", path).report("customers.csv")
    assert report == ["customers.csv:3: name must not contain a NUL (U+0000) character"]
    assert count(ctx.store, "customer") == 0
