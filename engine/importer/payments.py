"""Cash application for imported payments, worked out in memory before anything is written.

Lines that share `customer_ref` and `reference` form one payment (its amount is their sum);
each line pays the invoice it names, or stays unapplied credit when it names none. The rules
are the service's (`engine.services.payments`): the invoice must be in the payment's currency
and still collectible; an allocation takes at most the open amount and the excess stays
unapplied; an invoice whose open amount reaches zero is paid. Lines apply in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from engine.importer.checks import customers_by_ref
from engine.importer.columns import PaymentRow
from engine.importer.reader import Problem
from engine.store.bulk import Bulk
from states import invoice as inv_states


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
            payment = PlannedPayment(customer.id, r.reference, r.received_on, r.currency)
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
    if inv.currency != r.currency:
        return f"invoice {inv.number} is in {inv.currency}, the payment in {r.currency}"
    if inv.state not in inv_states.COLLECTIBLE:
        return f"invoice {inv.number} is {inv.state} and takes no payment"
    payment.amount += r.amount
    applied = min(r.amount, inv.open_amount)
    plan.invoices[inv.id] = inv
    payment.allocations.append((inv.id, applied))
    inv.open_amount -= applied
    inv.version += 1
    if inv.open_amount == 0:
        inv.state_before_payment = inv.state
        inv.state = inv_states.PAID
        inv.version += 1
        payment.paid.append(inv.id)
    return None
