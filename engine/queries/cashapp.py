"""The exception queue (bank transactions) and the payments list; keyset-paginated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.clock import loaded
from engine.queries.keyset import Ordering, keyset_page
from engine.queries.pages import Page
from engine.queries.sql import Params
from engine.store.database import Store
from engine.store.models import Entity
from engine.store.unit_of_work import read_only
from engine.views import PaymentView


@dataclass(frozen=True)
class BankTransactionView:
    id: int
    bank_ref: str
    statement: str
    source_format: str
    direction: str
    booked_on: date
    currency: str
    amount: int
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    state: str
    customer_id: int | None
    payment_id: int | None
    confidence: int
    candidates: tuple[dict[str, Any], ...]
    note: str | None

    @staticmethod
    def of(b: Entity) -> BankTransactionView:
        return BankTransactionView(
            b.id, b.bank_ref, b.statement, b.source_format, b.direction, b.booked_on, b.currency, b.amount,
            b.payer_name, b.payer_iban, b.remittance, b.state, b.customer.id if b.customer else None,
            b.payment.id if b.payment else None, b.confidence, tuple(b.candidates or ()), b.note,
        )  # fmt: skip


@dataclass(frozen=True)
class BankTransactionFilter:
    states: tuple[str, ...] = ()
    customer_id: int | None = None
    booked_from: date | None = None
    booked_to: date | None = None


_BT_ORDER = {"BOOKED_ON_DESC": Ordering("b.booked_on", descending=True)}
_PAY_ORDER = {"RECEIVED_ON_DESC": Ordering("p.received_on", descending=True)}


def _bt_where(flt: BankTransactionFilter, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.states:
        clauses.append(f"b.state IN {p.many(flt.states)}")
    if flt.customer_id is not None:
        clauses.append(f"b.customer = {p.add(flt.customer_id)}")
    if flt.booked_from is not None:
        clauses.append(f"b.booked_on >= {p.add(flt.booked_from)}")
    if flt.booked_to is not None:
        clauses.append(f"b.booked_on <= {p.add(flt.booked_to)}")
    return " AND ".join(clauses)


def list_bank_transactions(
    store: Store, flt: BankTransactionFilter, first: int, after: str | None
) -> Page[BankTransactionView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[BankTransactionView]:
        sql = f"SELECT b.* FROM bank_transaction b WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            return [BankTransactionView.of(b) for b in uow.BankTransaction.select_by_sql(sql, p.bound())]

    p = Params()
    return keyset_page(_BT_ORDER, "BOOKED_ON_DESC", first, after, _bt_where(flt, p), p, fetch, lambda v: v.booked_on)


def count_bank_transactions(store: Store, flt: BankTransactionFilter) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM bank_transaction b WHERE {_bt_where(flt, p)}", p.bound())[0])


def bank_transaction(store: Store, txn_id: int) -> BankTransactionView | None:
    with read_only(store) as uow:
        b = uow.BankTransaction.get(id=txn_id)
        return BankTransactionView.of(b) if b else None


@dataclass(frozen=True)
class PaymentFilter:
    customer_id: int | None = None
    invoice_id: int | None = None
    currency: str | None = None
    with_unapplied: bool = False


def _pay_where(flt: PaymentFilter, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.customer_id is not None:
        clauses.append(f"p.customer = {p.add(flt.customer_id)}")
    if flt.currency:
        clauses.append(f"p.currency = {p.add(flt.currency)}")
    if flt.with_unapplied:
        clauses.append("p.unapplied_amount > 0")
    if flt.invoice_id is not None:
        clauses.append(f"p.id IN (SELECT a.payment FROM allocation a WHERE a.invoice = {p.add(flt.invoice_id)})")
    return " AND ".join(clauses)


def list_payments(store: Store, flt: PaymentFilter, first: int, after: str | None) -> Page[PaymentView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[PaymentView]:
        sql = f"SELECT p.* FROM payment p WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            return [PaymentView.of(x) for x in uow.Payment.select_by_sql(sql, p.bound())]

    p = Params()
    return keyset_page(
        _PAY_ORDER, "RECEIVED_ON_DESC", first, after, _pay_where(flt, p), p, fetch, lambda v: v.received_on
    )


def count_payments(store: Store, flt: PaymentFilter) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM payment p WHERE {_pay_where(flt, p)}", p.bound())[0])


def payments_by_ids(store: Store, payment_ids: Sequence[int]) -> dict[int, PaymentView]:
    """Payments by id (a loader batch: one statement)."""
    wanted = sorted({int(i) for i in payment_ids})
    if not wanted:
        return {}
    with read_only(store) as uow:
        return {p.id: PaymentView.of(p) for p in uow.Payment.select(lambda p: p.id in wanted)}


def payments_by_invoice_ids(store: Store, invoice_ids: Sequence[int]) -> dict[int, list[PaymentView]]:
    """The payments with an allocation to each invoice (a loader batch: one statement)."""
    out: dict[int, list[PaymentView]] = {}
    if not invoice_ids:
        return out
    marks = ",".join(str(int(i)) for i in invoice_ids)
    with read_only(store) as uow:
        pairs = uow.select(f"SELECT DISTINCT a.invoice, a.payment FROM allocation a WHERE a.invoice IN ({marks})")
        wanted = sorted({int(r[1]) for r in pairs})
        views = {p.id: PaymentView.of(p) for p in uow.Payment.select(lambda p: p.id in wanted)}
    for inv_id, pay_id in sorted(pairs, key=lambda r: (r[0], r[1])):
        out.setdefault(int(inv_id), []).append(views[int(pay_id)])
    return out


def unapplied_by_customer_ids(store: Store, customer_ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
    """Unapplied credit of each customer per currency (never added across currencies)."""
    out: dict[int, list[tuple[str, int]]] = {}
    if not customer_ids:
        return out
    marks = ",".join(str(int(i)) for i in customer_ids)
    with read_only(store) as uow:
        rows = uow.select(
            "SELECT customer, currency, SUM(unapplied_amount) FROM payment WHERE unapplied_amount > 0 "
            f"AND reversed_at IS NULL AND customer IN ({marks}) GROUP BY customer, currency ORDER BY customer, currency"
        )
    for cid, currency, amount in rows:
        out.setdefault(int(cid), []).append((str(currency), int(amount)))
    return out


def aliases_by_customer_ids(store: Store, customer_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """(kind, value) of each customer's payer aliases."""
    out: dict[int, list[tuple[str, str]]] = {}
    if not customer_ids:
        return out
    marks = ",".join(str(int(i)) for i in customer_ids)
    with read_only(store) as uow:
        rows = uow.select(f"SELECT customer, kind, value FROM payer_alias WHERE customer IN ({marks}) ORDER BY id")
    for cid, kind, value in rows:
        out.setdefault(int(cid), []).append((str(kind), str(value)))
    return out


def credit_notes_by_invoice_ids(store: Store, invoice_ids: Sequence[int]) -> dict[int, list[CreditNoteView]]:
    out: dict[int, list[CreditNoteView]] = {}
    if not invoice_ids:
        return out
    marks = ",".join(str(int(i)) for i in invoice_ids)
    with read_only(store) as uow:
        for n in uow.CreditNote.select_by_sql(f"SELECT * FROM credit_note WHERE invoice IN ({marks}) ORDER BY id"):
            view = CreditNoteView(
                n.id,
                n.invoice.id,
                n.dispute.id if n.dispute else None,
                n.amount,
                n.reason,
                loaded(n.created_at),
                n.number,
            )
            out.setdefault(view.invoice_id, []).append(view)
    return out


@dataclass(frozen=True)
class CreditNoteView:
    id: int
    invoice_id: int
    dispute_id: int | None
    amount: int
    reason: str
    created_at: datetime
    number: str | None = None  # CN-YYYY-NNNNNN (engine/services/disputes.py)
