"""Bank statements in, payments matched: the service on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.cashapp.policy import parse_policy
from engine.commands import AllocationLine, ApplyCredit, CreateCustomer, IssueInvoice, PlaceHold
from engine.service import Collections
from engine.services import bank_transactions
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor, person
from states.errors import ValidationFailed

BANK = Actor("import", "statement")
ALICE = person("alice")
HEADER = "bank_ref,booked_on,amount,currency,payer_name,payer_iban,remittance\n"


def customer(service: Collections, ref: str, name: str, segment: str = "smb") -> int:
    return service.create_customer(CreateCustomer(ref, name, segment, "EUR", 10_000_000)).id


def invoice(service: Collections, cust: int, number: str, amount: int, due: date = date(2026, 2, 1)) -> int:
    return service.issue_invoice(IssueInvoice(cust, number, amount, "EUR", date(2026, 1, 1), due), ALICE).id


def state(store: Store, inv: int) -> tuple[str, int]:
    with read_only(store) as uow:
        i = uow.Invoice[inv]
        return i.state, i.open_amount


def txns(store: Store) -> dict[str, str]:
    with read_only(store) as uow:
        return {b.bank_ref: b.state for b in uow.BankTransaction.select()}


@pytest.fixture
def book(service: Collections) -> dict[str, int]:
    acme = customer(service, "C-1", "ACME Industries GmbH")
    beta = customer(service, "C-2", "Beta Trading Ltd")
    return {
        "acme": acme,
        "beta": beta,
        "a1": invoice(service, acme, "INV-2026-000101", 50_000),
        "a2": invoice(service, acme, "INV-2026-000102", 12_345),
        "a3": invoice(service, acme, "INV-2026-000103", 20_000),
        "b1": invoice(service, beta, "INV-2026-000201", 77_700),
    }


def test_a_payment_naming_its_invoice_in_the_text_is_applied_and_the_invoice_paid(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    text = HEADER + "B-1,2026-03-01,500.00,EUR,Acme Industries,,Payment for invoice inv 2026 000101 thanks\n"
    summary = service.import_statement(text, None, BANK)
    assert summary.as_json() == {
        "format": "csv", "transactions": 1, "auto_applied": 1, "suggested": 0, "unmatched": 0, "excluded": 0,
        "duplicates": 0,
    }  # fmt: skip
    assert state(store, book["a1"]) == ("paid", 0)
    assert txns(store) == {"B-1": "auto_applied"}


def test_an_entry_imported_twice_is_skipped_and_counted(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    text = HEADER + "B-1,2026-03-01,100.00,EUR,Nobody,,hello\nB-2,2026-03-01,-5.00,EUR,,,fee\n"
    service.import_statement(text, "csv", BANK)
    again = service.import_statement(text, "csv", BANK)
    assert (again.duplicates, again.transactions, again.excluded) == (2, 0, 0)
    assert txns(store) == {"B-1": "unmatched", "B-2": "excluded"}


def test_a_short_payment_within_the_tolerance_settles_and_records_the_difference(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    text = HEADER + "B-1,2026-03-01,490.00,EUR,ACME Industries,,INV-2026-000101\n"
    service.import_statement(text, None, BANK)
    assert state(store, book["a1"]) == ("paid", 0)
    with read_only(store) as uow:
        (alloc,) = uow.Allocation.select(lambda a: a.invoice.id == book["a1"])
        assert (alloc.amount, alloc.short_paid) == (49_000, 1_000)


def test_a_name_only_payment_with_a_unique_amount_is_applied(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,123.45,EUR,ACME INDUSTRIES GMBH,,thank you\n", None, BANK)
    assert state(store, book["a2"]) == ("paid", 0)


def test_traps_are_never_applied_automatically(store: Store, service: Collections, book: dict[str, int]) -> None:
    service.import_statement(HEADER + "P-0,2026-03-01,500.00,EUR,Acme,,INV-2026-000101\n", None, BANK)
    text = HEADER + (
        "T-1,2026-03-02,500.00,EUR,Acme,,INV-2026-000101 again\n"  # names a paid invoice
        "T-2,2026-03-02,999.99,EUR,Someone Unknown,,no reference\n"  # unidentified
        "T-3,2026-03-02,777.00,EUR,Acme Industries,,INV-2026-000201\n"  # another customer's invoice
    )
    summary = service.import_statement(text, None, BANK)
    assert summary.auto_applied == 0
    states = txns(store)
    assert (states["T-1"], states["T-2"], states["T-3"]) == ("suggested", "unmatched", "suggested")
    assert state(store, book["b1"]) == ("open", 77_700)


def test_a_persons_match_applies_the_money_and_teaches_the_payer_alias(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    text = HEADER + "B-1,2026-03-01,200.00,EUR,Mr J Smith,DE44 5001 0517 5407 3249 31,see you\n"
    service.import_statement(text, None, BANK)
    with read_only(store) as uow:
        txn = uow.BankTransaction.get(bank_ref="B-1").id
    service.apply_bank_transaction(txn, book["acme"], (AllocationLine(20_000, invoice_id=book["a3"]),), ALICE)
    assert state(store, book["a3"]) == ("paid", 0)
    assert txns(store)["B-1"] == "applied"
    invoice(service, book["acme"], "INV-2026-000109", 31_000)
    service.import_statement(HEADER + "B-2,2026-03-05,310.00,EUR,J. Smith,DE44500105175407324931,x\n", None, BANK)
    assert txns(store)["B-2"] == "auto_applied"  # the IBAN was learnt


def test_an_overpayment_leaves_the_excess_as_unapplied_credit_that_apply_credit_uses_later(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,623.45,EUR,ACME Industries,,INV-2026-000101\n", None, BANK)
    assert state(store, book["a1"]) == ("paid", 0)
    with read_only(store) as uow:
        assert uow.Customer[book["acme"]].unapplied_credit == 12_345
    service.apply_credit(ApplyCredit(book["acme"], "EUR", (AllocationLine(12_345, invoice_id=book["a2"]),)), ALICE)
    assert state(store, book["a2"]) == ("paid", 0)
    with read_only(store) as uow:
        assert uow.Customer[book["acme"]].unapplied_credit == 0


def test_unapplying_a_payment_reopens_the_invoice_and_keeps_the_money_as_credit(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,500.00,EUR,ACME,,INV-2026-000101\n", None, BANK)
    with read_only(store) as uow:
        pid = uow.BankTransaction.get(bank_ref="B-1").payment.id
    service.unapply_payment(pid, "wrong invoice", ALICE)
    assert state(store, book["a1"]) == ("overdue", 50_000)
    with read_only(store) as uow:
        assert uow.Customer[book["acme"]].unapplied_credit == 50_000
        assert uow.Payment[pid].allocations.count() == 0


def test_a_bad_statement_names_where_and_writes_nothing(
    store: Store, service: Collections, book: dict[str, int], tmp_path: Path
) -> None:
    text = HEADER + "B-1,2026-03-01,500.00,EUR,ACME,,INV-2026-000101\nB-2,2026-13-01,5.00,EUR,,,\n"
    with pytest.raises(ValidationFailed, match="line 3: booked_on '2026-13-01' is not a date"):
        service.import_statement(text, None, BANK)
    assert txns(store) == {}
    assert state(store, book["a1"]) == ("open", 50_000)


def test_excluded_and_returned_transactions_need_a_reason(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,9.99,EUR,X,,\nB-2,2026-03-01,8.88,EUR,Y,,\n", None, BANK)
    with read_only(store) as uow:
        one, two = (uow.BankTransaction.get(bank_ref=r).id for r in ("B-1", "B-2"))
    with pytest.raises(ValidationFailed, match="reason"):
        service.exclude_bank_transaction(one, " ", ALICE)
    service.exclude_bank_transaction(one, "internal transfer", ALICE)
    service.return_bank_transaction(two, "unknown payer", ALICE)
    assert txns(store) == {"B-1": "excluded", "B-2": "returned"}


def test_with_the_oldest_due_first_policy_an_overpayment_pays_the_next_invoices_at_once(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    policy = parse_policy({"apply_credit": "oldest_due_first"})
    text = HEADER + "B-1,2026-03-01,623.45,EUR,ACME Industries,,INV-2026-000101\n"
    bank_transactions.import_statement(service.ctx, text, None, BANK, policy)
    assert state(store, book["a1"]) == ("paid", 0)
    assert state(store, book["a2"]) == ("paid", 0)  # 123.45 left over, the next oldest due
    with read_only(store) as uow:
        assert uow.Customer[book["acme"]].unapplied_credit == 0


def test_a_payment_in_another_currency_is_kept_as_credit_in_that_currency_never_added_to_the_customers(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,70.00,USD,ACME Industries,,thanks\n", None, BANK)
    with read_only(store) as uow:
        txn = uow.BankTransaction.get(bank_ref="B-1").id
    service.apply_bank_transaction(txn, book["acme"], (), ALICE)  # on account, in USD
    with read_only(store) as uow:
        assert uow.Customer[book["acme"]].unapplied_credit == 0
        assert uow.BankTransaction[txn].state == "on_account"
    with pytest.raises(ValidationFailed, match="no open invoice in USD"):
        service.apply_credit(ApplyCredit(book["acme"], "USD"), ALICE)
    with pytest.raises(ValidationFailed, match="no unapplied credit in EUR"):
        service.apply_credit(ApplyCredit(book["acme"], "EUR"), ALICE)


def test_an_unapplied_statement_payment_returns_to_the_queue_and_a_person_applies_it_elsewhere(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,200.00,EUR,ACME,,INV-2026-000103\n", None, BANK)
    with read_only(store) as uow:
        txn = uow.BankTransaction.get(bank_ref="B-1")
        txn_id, pid = txn.id, txn.payment.id
    service.unapply_payment(pid, "the customer meant another invoice", ALICE)
    assert txns(store)["B-1"] == "suggested"
    with pytest.raises(ValidationFailed, match="credit of customer C-1"):
        service.apply_bank_transaction(txn_id, book["beta"], (), ALICE)
    service.apply_bank_transaction(txn_id, book["acme"], (AllocationLine(12_345, invoice_id=book["a2"]),), ALICE)
    assert txns(store)["B-1"] == "applied"
    assert state(store, book["a2"]) == ("paid", 0)
    assert state(store, book["a3"])[1] == 20_000
    with read_only(store) as uow:
        assert uow.Payment[pid].unapplied_amount == 20_000 - 12_345


def test_an_overdue_hold_is_released_once_the_statement_pays_everything_past_due(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.place_hold(PlaceHold(book["acme"], "overdue"), Actor("rule", "smb-standard/hold"))
    text = HEADER + "B-1,2026-03-01,823.45,EUR,ACME Industries,,INV-2026-000101 INV-2026-000102 INV-2026-000103\n"
    summary = service.import_statement(text, None, BANK)
    assert summary.auto_applied == 1
    with read_only(store) as uow:
        assert uow.Customer[book["acme"]].state == "active"
