"""Cash application for imported payments, worked out in memory before anything is written.

Lines that share `customer_ref` and `reference` form one payment (its amount is their sum);
each line pays the invoice it names, or stays unapplied credit when it names none. The rules
are the service's, stated once in `states.cash`: the invoice must be in the payment's currency
and still collectible; an allocation takes at most the open amount and the excess stays
unapplied; an invoice whose open amount reaches zero is paid — through the invoice machine's
`pay`, as every other path. Lines apply in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from engine.importer.checks import customers_by_ref
from engine.importer.columns import PaymentRow
from engine.importer.reader import Problem
from engine.store.bulk import Bulk
from states.cash import allocation_problem, allocation_take, settles
from states.invoice import INVOICE


@dataclass
class InvoiceAccount:
    """An invoice as stored, and as it stands after the lines applied so far."""

    id: int
    customer_id: int
    number: str
    currency: str
    state: str
    open_amount: int
    version: int
    stored_version: int
    due_date: date
    dunning_level: int
    amount: int
    state_before_payment: str = ""


@dataclass
class PlannedPayment:
    customer_id: int
    customer_currency: str
    reference: str
    received_on: date
    currency: str
    amount: int = 0
    allocations: list[tuple[int, int]] = field(default_factory=list)  # (invoice id, amount)
    paid: list[int] = field(default_factory=list)  # invoices this payment settled

    @property
    def unapplied(self) -> int:
        return self.amount - sum(a for _, a in self.allocations)


@dataclass
class PaymentPlan:
    payments: list[PlannedPayment] = field(default_factory=list)
    invoices: dict[int, InvoiceAccount] = field(default_factory=dict)

    def touched(self) -> list[InvoiceAccount]:
        return [i for i in self.invoices.values() if i.version != i.stored_version]


def _load_invoices(bulk: Bulk, rows: list[PaymentRow]) -> dict[tuple[int, str], InvoiceAccount]:
    numbers = [r.invoice_number for r in rows if r.invoice_number]
    found = bulk.select_in(
        "SELECT id, customer, number, currency, state, open_amount, version, due_date, dunning_level, amount "
        "FROM invoice WHERE number IN ({})",
        numbers,
    )
    out: dict[tuple[int, str], InvoiceAccount] = {}
    for r in found:
        due = r[7] if isinstance(r[7], date) else date.fromisoformat(str(r[7])[:10])
        acc = InvoiceAccount(
            int(r[0]), int(r[1]), r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[6]), due, int(r[8]), int(r[9])
        )
        out[(acc.customer_id, acc.number)] = acc
    return out


def plan_payments(bulk: Bulk, rows: list[PaymentRow]) -> tuple[list[Problem], PaymentPlan]:
    problems: list[Problem] = []
    plan = PaymentPlan()
    customers = customers_by_ref(bulk, [r.customer_ref for r in rows])
    stored_refs = {
        (int(r[0]), r[1])
        for r in bulk.select_in(
            "SELECT customer, reference FROM payment WHERE reference IN ({})", [r.reference for r in rows]
        )
    }
    invoices = _load_invoices(bulk, rows)
    payments: dict[tuple[str, str], PlannedPayment] = {}
    lines_seen: dict[tuple[str, str, str | None], int] = {}
    for r in rows:
        customer = customers.get(r.customer_ref)
        if customer is None:
            problems.append(Problem(r.line, f"customer '{r.customer_ref}' does not exist"))
            continue
        if (customer.id, r.reference) in stored_refs:
            problems.append(
                Problem(r.line, f"payment '{r.reference}' was already recorded for customer '{r.customer_ref}'")
            )
            continue
        line_key = (r.customer_ref, r.reference, r.invoice_number)
        if line_key in lines_seen:
            what = f"invoice '{r.invoice_number}'" if r.invoice_number else "unapplied credit"
            problems.append(
                Problem(r.line, f"payment '{r.reference}' names {what} twice (first on line {lines_seen[line_key]})")
            )
            continue
        lines_seen[line_key] = r.line
        payment = payments.get((r.customer_ref, r.reference))
        if payment is None:
            payment = PlannedPayment(customer.id, customer.currency, r.reference, r.received_on, r.currency)
            payments[(r.customer_ref, r.reference)] = payment
            plan.payments.append(payment)
        elif (payment.received_on, payment.currency) != (r.received_on, r.currency):
            problems.append(Problem(r.line, f"payment '{r.reference}' has another date or currency on an earlier line"))
            continue
        problem = _apply_line(r, customer.id, payment, invoices, plan)
        if problem:
            problems.append(Problem(r.line, problem))
    return problems, plan


def _apply_line(
    r: PaymentRow,
    customer_id: int,
    payment: PlannedPayment,
    invoices: dict[tuple[int, str], InvoiceAccount],
    plan: PaymentPlan,
) -> str | None:
    if r.invoice_number is None:
        payment.amount += r.amount
        return None
    inv = invoices.get((customer_id, r.invoice_number))
    if inv is None:
        return f"invoice '{r.invoice_number}' of customer '{r.customer_ref}' does not exist"
    problem = allocation_problem(inv.number, inv.currency, inv.state, r.currency)
    if problem:
        return problem
    payment.amount += r.amount
    applied = allocation_take(r.amount, inv.open_amount)
    plan.invoices[inv.id] = inv
    payment.allocations.append((inv.id, applied))
    inv.open_amount -= applied
    inv.version += 1
    if settles(inv.open_amount):
        inv.state_before_payment = inv.state
        INVOICE.fire(inv, "pay", inv.id, past_due=payment.received_on > inv.due_date)
        inv.version += 1
        payment.paid.append(inv.id)
    return None
