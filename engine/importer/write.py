"""Set-based writes of checked rows, with the history and outbox rows the service would write."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.clock import stored
from engine.importer.checks import NewInvoice
from engine.importer.columns import CustomerRow
from engine.importer.payments import InvoiceAccount, PaymentPlan
from engine.journal.batch import JournalBatch
from engine.notices.contact_import import write_contacts
from engine.notices.contacts import ContactFields
from engine.store.bulk import Bulk
from states import invoice as inv_states
from states.actors import Actor
from states.money import CURRENCY_EXPONENTS, Money, format_minor

CUSTOMER_COLUMNS = (
    "id",
    "external_ref",
    "name",
    "segment",
    "risk_class",
    "risk_score",
    "risk_explanation",
    "credit_limit",
    "currency",
    "payment_terms_days",
    "timezone",
    "country",
    "subdivision",
    "tags",
    "email",
    "state",
    "unapplied_credit",
    "broken_promises",
    "version",
    "created_at",
)
INVOICE_COLUMNS = (
    "id",
    "customer",
    "number",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
    "state",
    "dunning_level",
    "last_notice_on",
    "paid_on",
    "version",
    "created_at",
    "updated_at",
)
PAYMENT_COLUMNS = (
    "id",
    "customer",
    "reference",
    "received_on",
    "currency",
    "amount",
    "unapplied_amount",
    "reversed_at",
    "created_at",
)
ALLOCATION_COLUMNS = ("payment", "invoice", "amount", "short_paid")


def decimal_text(minor: int, currency: str) -> str:
    """`states.money.format_minor` without Decimal (integer arithmetic, same text)."""
    exp = CURRENCY_EXPONENTS[currency]
    if exp == 0:
        return str(minor)
    whole, part = divmod(abs(minor), 10**exp)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{exp}d}"


def invoice_snapshot(
    id: int, number: str, customer_id: int, state: str, level: int, currency: str,
    amount: int, open_amount: int, due: date, version: int,
) -> dict[str, Any]:  # fmt: skip
    """The same fields as `engine.services.common.invoice_snapshot`, from plain values."""
    return {
        "id": id,
        "number": number,
        "customerId": customer_id,
        "state": state,
        "dunningLevel": level,
        "currency": currency,
        "amount": decimal_text(amount, currency),
        "openAmount": decimal_text(open_amount, currency),
        "dueDate": due.isoformat(),
        "version": version,
    }


def write_customers(bulk: Bulk, journal: JournalBatch, rows: list[CustomerRow], now: datetime) -> list[int]:
    ids = bulk.reserve_ids("customer", len(rows))
    at = bulk.moment(stored(now))
    empty = bulk.json({})
    values = []
    for cid, r in zip(ids, rows, strict=True):
        values.append(
            (cid, r.external_ref, r.name, r.segment, r.risk_class, 50, empty, r.credit_limit, r.currency,
             r.payment_terms_days, r.timezone, r.country, r.subdivision, bulk.json(list(r.tags)), r.email,
             "active", 0, 0, 1, at)
        )  # fmt: skip
        journal.emit(
            type="o2c.customer.created",
            entity_type="account",
            entity_id=cid,
            entity_version=1,
            customer_id=cid,
            at=now,
            data={"snapshot": {"id": cid, "externalRef": r.external_ref}},
        )
    bulk.insert("customer", CUSTOMER_COLUMNS, values)
    write_contacts(
        bulk, [(cid, ContactFields(email=r.email)) for cid, r in zip(ids, rows, strict=True) if r.email], now
    )
    return ids


def write_invoices(bulk: Bulk, journal: JournalBatch, plan: list[NewInvoice], actor: Actor, now: datetime) -> list[int]:
    """Insert open invoices; each gets its `issue` transition (None → open) and event."""
    ids = bulk.reserve_ids("invoice", len(plan))
    at = bulk.moment(stored(now))
    values = []
    for iid, n in zip(ids, plan, strict=True):
        values.append(
            (iid, n.customer_id, n.number, bulk.day(n.issue_date), bulk.day(n.due_date), n.currency, n.amount,
             n.amount, inv_states.OPEN, 0, None, None, 1, at, at)
        )  # fmt: skip
        journal.transition(
            entity_type="invoice",
            entity_id=iid,
            entity_version=1,
            customer_id=n.customer_id,
            from_state=None,
            to_state=inv_states.OPEN,
            trigger="issue",
            actor=actor,
            at=now,
            snapshot=invoice_snapshot(
                iid, n.number, n.customer_id, inv_states.OPEN, 0, n.currency, n.amount, n.amount, n.due_date, 1
            ),
            event_type="o2c.invoice.issued",
        )
    bulk.insert("invoice", INVOICE_COLUMNS, values)
    return ids


def write_payments(
    bulk: Bulk, journal: JournalBatch, plan: PaymentPlan, actor: Actor, now: datetime, today: date
) -> list[int]:
    """Payments, allocations, lowered open amounts, `pay` transitions, unapplied credit."""
    ids = bulk.reserve_ids("payment", len(plan.payments))
    at = bulk.moment(stored(now))
    payments: list[tuple[Any, ...]] = []
    allocations: list[tuple[int, int, int, int]] = []
    credit: list[tuple[int, int]] = []
    last_payment: dict[int, tuple[int, str]] = {}
    for pid, p in zip(ids, plan.payments, strict=True):
        payments.append(
            (pid, p.customer_id, p.reference, bulk.day(p.received_on), p.currency, p.amount, p.unapplied, None, at)
        )
        allocations.extend((pid, inv_id, amount, 0) for inv_id, amount in p.allocations if amount > 0)
        if p.unapplied and p.currency == p.customer_currency:  # other currencies: on the payment only
            credit.append((p.customer_id, p.unapplied))
        last_payment.update({inv_id: (pid, p.reference) for inv_id, amount in p.allocations if amount > 0})
    bulk.insert("payment", PAYMENT_COLUMNS, payments)
    bulk.insert("allocation", ALLOCATION_COLUMNS, allocations)
    touched = plan.touched()
    paid_on = {inv_id: p.received_on for p in plan.payments for inv_id in p.paid}
    bulk.update(
        "invoice",
        ("open_amount", "state", "version", "paid_on", "updated_at"),
        [(i.id, i.stored_version, i.open_amount, i.state, i.version, bulk.day(paid_on.get(i.id)), at) for i in touched],
        casts={"paid_on": "::date", "updated_at": "::timestamp"},
        expect_version=True,
    )
    bulk.increment("customer", "unapplied_credit", credit)
    for i in touched:
        if i.state == inv_states.PAID:
            _record_paid(journal, i, last_payment[i.id], actor, now, today)
        else:  # lowered, still open: its subscribers learn the new amount (as `apply_payment` does)
            _record_amount_change(journal, i, last_payment[i.id], now)
    for pid, p in zip(ids, plan.payments, strict=True):
        journal.emit(
            type="o2c.payment.applied",
            entity_type="payment",
            entity_id=pid,
            entity_version=1,
            customer_id=p.customer_id,
            at=now,
            data={"snapshot": _payment_snapshot(pid, p.reference, p.currency, p.amount, p.unapplied, p.allocations)},
        )
    return ids


def _record_paid(
    journal: JournalBatch, i: InvoiceAccount, by: tuple[int, str], actor: Actor, now: datetime, today: date
) -> None:
    facts = {
        "open_amount": str(Money(0, i.currency)),
        "currency": i.currency,
        "dunning_level": i.dunning_level,
        "days_past_due": (today - i.due_date).days,
        "state": i.state_before_payment,
    }
    journal.transition(
        entity_type="invoice",
        entity_id=i.id,
        entity_version=i.version,
        customer_id=i.customer_id,
        from_state=i.state_before_payment,
        to_state=inv_states.PAID,
        trigger="pay",
        actor=actor,
        at=now,
        cause={"kind": "payment", "payment_id": by[0], "reference": by[1]},
        facts=facts,
        reason="paid in full",
        snapshot=invoice_snapshot(
            i.id,
            i.number,
            i.customer_id,
            inv_states.PAID,
            i.dunning_level,
            i.currency,
            i.amount,
            0,
            i.due_date,
            i.version,
        ),
    )


def _record_amount_change(journal: JournalBatch, i: InvoiceAccount, by: tuple[int, str], now: datetime) -> None:
    journal.emit(
        type="o2c.invoice.amount_changed",
        entity_type="invoice",
        entity_id=i.id,
        entity_version=i.version,
        customer_id=i.customer_id,
        at=now,
        data={
            "cause": {"kind": "payment", "payment_id": by[0], "reference": by[1]},
            "reason": "partial payment",
            "snapshot": invoice_snapshot(
                i.id,
                i.number,
                i.customer_id,
                i.state,
                i.dunning_level,
                i.currency,
                i.amount,
                i.open_amount,
                i.due_date,
                i.version,
            ),
        },
    )


def _payment_snapshot(
    pid: int, reference: str, currency: str, amount: int, unapplied: int, allocations: list[tuple[int, int]]
) -> dict[str, Any]:
    return {
        "id": pid,
        "reference": reference,
        "currency": currency,
        "amount": format_minor(amount, currency),
        "unapplied": format_minor(unapplied, currency),
        "allocations": [
            {"invoiceId": inv_id, "amount": format_minor(a, currency)} for inv_id, a in allocations if a > 0
        ],
    }
