"""Batch reads for DataLoaders: one statement per relation, whatever the number of keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from engine.queries import rows as r
from engine.queries.sql import Params
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from engine.views import CustomerView, DisputeView, HoldView, InvoiceView, PromiseView
from states import invoice as inv_states


def _rows(uow: UnitOfWork, entity: str, table: str, column: str, keys: Sequence[int]) -> list[Any]:
    p = Params()
    sql = f"SELECT * FROM {table} WHERE {column} IN {p.many(sorted(set(keys)))} ORDER BY id"
    return list(getattr(uow, entity).select_by_sql(sql, p.bound()))


def _raw(store: Store, table: str, names: Sequence[str], column: str, keys: Sequence[int]) -> list[tuple[Any, ...]]:
    """The `names` columns of the rows whose `column` is one of `keys`, by id: plain tuples, no entities."""
    p = Params()
    sql = f"SELECT {r.columns('t', names)} FROM {table} t WHERE t.{column} IN {p.many(sorted(set(keys)))} ORDER BY t.id"
    with read_only(store) as uow:
        return uow.select(sql, p.bound())


def customers_by_ids(store: Store, ids: Sequence[int]) -> dict[int, CustomerView]:
    views = map(r.customer_view, _raw(store, "customer", r.CUSTOMER_COLUMNS, "id", ids))
    return {v.id: v for v in views}


def invoices_by_ids(store: Store, ids: Sequence[int]) -> dict[int, InvoiceView]:
    views = map(r.invoice_view, _raw(store, "invoice", r.INVOICE_COLUMNS, "id", ids))
    return {v.id: v for v in views}


def disputes_by_ids(store: Store, ids: Sequence[int]) -> dict[int, DisputeView]:
    views = map(r.dispute_view, _raw(store, "dispute", r.DISPUTE_COLUMNS, "id", ids))
    return {v.id: v for v in views}


def disputes_by_invoice_ids(store: Store, ids: Sequence[int]) -> dict[int, list[DisputeView]]:
    found: dict[int, list[DisputeView]] = defaultdict(list)
    for row in _raw(store, "dispute", r.DISPUTE_COLUMNS, "invoice", ids):
        view = r.dispute_view(row)
        found[view.invoice_id].append(view)
    return found


def disputes_by_customer_ids(store: Store, ids: Sequence[int]) -> dict[int, list[DisputeView]]:
    found: dict[int, list[DisputeView]] = defaultdict(list)
    for row in _raw(store, "dispute", r.DISPUTE_COLUMNS, "customer", ids):
        view = r.dispute_view(row)
        found[view.customer_id].append(view)
    return found


def promises_by_invoice_ids(store: Store, ids: Sequence[int]) -> dict[int, list[PromiseView]]:
    found: dict[int, list[PromiseView]] = defaultdict(list)
    with read_only(store) as uow:
        for p in _rows(uow, "PromiseToPay", "promise_to_pay", "invoice", ids):
            found[p.invoice.id].append(PromiseView.of(p))
    return found


def promises_by_customer_ids(store: Store, ids: Sequence[int]) -> dict[int, list[PromiseView]]:
    found: dict[int, list[PromiseView]] = defaultdict(list)
    with read_only(store) as uow:
        for p in _rows(uow, "PromiseToPay", "promise_to_pay", "customer", ids):
            found[p.customer.id].append(PromiseView.of(p))
    return found


def holds_by_customer_ids(store: Store, ids: Sequence[int]) -> dict[int, list[HoldView]]:
    found: dict[int, list[HoldView]] = defaultdict(list)
    with read_only(store) as uow:
        for h in _rows(uow, "CreditHold", "credit_hold", "customer", ids):
            found[h.customer.id].append(HoldView.of(h))
    return found


def exposure_by_customer_ids(store: Store, ids: Sequence[int]) -> dict[int, int]:
    """Open receivables per customer, in the customer's own currency (other currencies aside)."""
    p = Params()
    sql = (
        "SELECT c.id, COALESCE(SUM(i.open_amount), 0) FROM customer c"
        " LEFT JOIN invoice i ON i.customer = c.id AND i.currency = c.currency"
        f" AND i.state IN {p.many(sorted(inv_states.COLLECTIBLE))}"
        f" WHERE c.id IN {p.many(sorted(set(ids)))} GROUP BY c.id"
    )
    with read_only(store) as uow:
        return {int(cid): int(total) for cid, total in uow.select(sql, p.bound())}


def invoices_by_customer_ids(
    store: Store, ids: Sequence[int], limit: int, states: Sequence[str] = ()
) -> dict[int, list[InvoiceView]]:
    """The latest `limit` invoices of each customer (by due date), in one statement."""
    p = Params()
    state_clause = f" AND state IN {p.many(states)}" if states else ""
    sql = (
        "SELECT invoice.* FROM invoice JOIN (SELECT id, ROW_NUMBER() OVER"
        " (PARTITION BY customer ORDER BY due_date DESC, id DESC) AS rn FROM invoice"
        f" WHERE customer IN {p.many(sorted(set(ids)))}{state_clause}) ranked ON ranked.id = invoice.id"
        f" WHERE ranked.rn <= {p.add(limit)}"
        " ORDER BY invoice.customer, invoice.due_date DESC, invoice.id DESC"
    )
    found: dict[int, list[InvoiceView]] = defaultdict(list)
    with read_only(store) as uow:
        for i in uow.Invoice.select_by_sql(sql, p.bound()):
            found[i.customer.id].append(InvoiceView.of(i))
    return found
