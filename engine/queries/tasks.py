"""The task list: filtered by queue, assignee, status, subject and due date; keyset-paginated.
A snoozed task whose date has come counts as open here even before the timer wakes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.queries.keyset import Ordering, keyset_page
from engine.queries.pages import Page
from engine.queries.sql import Params
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.tasks.views import TaskView

ORDERINGS: dict[str, Ordering] = {
    "CREATED_AT_DESC": Ordering("t.created_at", descending=True),
    "CREATED_AT_ASC": Ordering("t.created_at", descending=False),
}


@dataclass(frozen=True)
class TaskFilter:
    queues: tuple[str, ...] = ()
    assignee: str | None = None
    unassigned: bool = False
    statuses: tuple[str, ...] = ()
    due_before: date | None = None
    customer_id: int | None = None
    invoice_id: int | None = None


def _where(flt: TaskFilter, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.queues:
        clauses.append(f"t.queue IN {p.many(flt.queues)}")
    if flt.assignee is not None:
        clauses.append(f"t.assignee = {p.add(flt.assignee)}")
    if flt.unassigned:
        clauses.append("t.assignee IS NULL")
    if flt.statuses:
        clauses.append(f"t.status IN {p.many(flt.statuses)}")
    if flt.due_before is not None:
        clauses.append(f"t.due_on IS NOT NULL AND t.due_on < {p.add(flt.due_before.isoformat())}")
    if flt.customer_id is not None:
        clauses.append(f"t.customer = {p.add(flt.customer_id)}")
    if flt.invoice_id is not None:
        clauses.append(f"t.invoice = {p.add(flt.invoice_id)}")
    return " AND ".join(clauses)


def list_tasks(store: Store, flt: TaskFilter, order: str, first: int, after: str | None) -> Page[TaskView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[TaskView]:
        sql = f"SELECT t.* FROM collector_task t WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            return [TaskView.of(t) for t in uow.CollectorTask.select_by_sql(sql, p.bound())]

    def sort_value(v: TaskView) -> Any:
        return v.created_at

    p = Params()
    return keyset_page(ORDERINGS, order, first, after, _where(flt, p), p, fetch, sort_value)


def count_tasks(store: Store, flt: TaskFilter) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM collector_task t WHERE {_where(flt, p)}", p.bound())[0])


def get_task(store: Store, task_id: int) -> TaskView | None:
    with read_only(store) as uow:
        t = uow.CollectorTask.get(id=task_id)
        return TaskView.of(t) if t is not None else None
