"""Checks that need more than one row: references into the database and duplicates, within the
file and against what is stored. They run inside the import's transaction, so what they see is
what the write will find."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from engine.importer.columns import CustomerRow, InvoiceRow
from engine.importer.reader import Problem
from engine.store.bulk import Bulk


@dataclass(frozen=True)
class KnownCustomer:
    id: int
    currency: str
    payment_terms_days: int


@dataclass(frozen=True)
class NewInvoice:
    """An invoice row resolved against the database, ready to write."""

    line: int
    customer_id: int
    number: str
    issue_date: date
    due_date: date
    amount: int
    currency: str


def customers_by_ref(bulk: Bulk, refs: list[str]) -> dict[str, KnownCustomer]:
    rows = bulk.select_in(
        "SELECT external_ref, id, currency, payment_terms_days FROM customer WHERE external_ref IN ({})", refs
    )
    return {r[0]: KnownCustomer(int(r[1]), r[2], int(r[3])) for r in rows}


def check_customers(bulk: Bulk, rows: list[CustomerRow]) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    stored = customers_by_ref(bulk, [r.external_ref for r in rows])
    for r in rows:
        if r.external_ref in first:
            problems.append(
                Problem(r.line, f"customer '{r.external_ref}' appears twice (first on line {first[r.external_ref]})")
            )
            continue
        first[r.external_ref] = r.line
        if r.external_ref in stored:
            problems.append(Problem(r.line, f"customer '{r.external_ref}' already exists"))
    return problems


def check_invoices(bulk: Bulk, rows: list[InvoiceRow]) -> tuple[list[Problem], list[NewInvoice]]:
    problems: list[Problem] = []
    plan: list[NewInvoice] = []
    customers = customers_by_ref(bulk, [r.customer_ref for r in rows])
    stored = {
        (int(r[0]), r[1])
        for r in bulk.select_in("SELECT customer, number FROM invoice WHERE number IN ({})", [r.number for r in rows])
    }
    first: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r.customer_ref, r.number)
        if key in first:
            problems.append(
                Problem(
                    r.line,
                    f"invoice '{r.number}' of customer '{r.customer_ref}' appears twice (first on line {first[key]})",
                )
            )
            continue
        first[key] = r.line
        customer = customers.get(r.customer_ref)
        if customer is None:
            problems.append(Problem(r.line, f"customer '{r.customer_ref}' does not exist"))
            continue
        if (customer.id, r.number) in stored:
            problems.append(Problem(r.line, f"invoice '{r.number}' already exists for customer '{r.customer_ref}'"))
            continue
        due = r.due_date or r.issue_date + timedelta(days=customer.payment_terms_days)
        plan.append(NewInvoice(r.line, customer.id, r.number, r.issue_date, due, r.amount, r.currency))
    return problems, plan
