"""Per-collector figures over a period: tasks done, calls logged, promises obtained and kept, cash
collected on the customers of their portfolio (per currency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from engine.queries.sql import Params
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class CollectorFigures:
    collector_id: int
    since: date
    until: date
    tasks_done: int
    calls_logged: int
    promises_obtained: int
    promises_kept: int
    cash_collected: dict[str, int]  # currency → minor units


def collector_figures(store: Store, collector_id: int, since: date, until: date) -> CollectorFigures:
    if until < since:
        raise ValidationFailed("the period ends before it starts", "until")
    start = datetime.combine(since, time())
    end = datetime.combine(until + timedelta(days=1), time())
    with read_only(store) as uow:
        c = uow.Collector.get(id=collector_id)
        if c is None:
            raise NotFound(f"collector {collector_id} does not exist")
        actor = f"user:{c.email}"
        p = Params()
        a, b = p.add(start), p.add(end)
        tasks = uow.select(
            f"SELECT COUNT(*) FROM collector_task WHERE assignee = {p.add(c.email)} AND status = 'done'"
            f" AND updated_at >= {a} AND updated_at < {b}",
            p.bound(),
        )[0]
        calls = uow.select(
            f"SELECT COUNT(*) FROM customer_note WHERE author = {p.add(actor)} AND kind = 'call'"
            f" AND at >= {a} AND at < {b}",
            p.bound(),
        )[0]
        promised = uow.select(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'kept' THEN 1 ELSE 0 END), 0) FROM promise_to_pay"
            f" WHERE created_by = {p.add(actor)} AND created_at >= {a} AND created_at < {b}",
            p.bound(),
        )[0]
        q = Params()
        cash = uow.select(
            "SELECT y.currency, SUM(al.amount) FROM allocation al JOIN payment y ON y.id = al.payment"
            " JOIN invoice i ON i.id = al.invoice JOIN customer cu ON cu.id = i.customer"
            f" WHERE cu.collector = {q.add(collector_id)} AND y.reversed_at IS NULL"
            f" AND y.received_on >= {q.add(since.isoformat())} AND y.received_on <= {q.add(until.isoformat())}"
            " GROUP BY y.currency ORDER BY y.currency",
            q.bound(),
        )
    return CollectorFigures(
        collector_id,
        since,
        until,
        int(tasks),
        int(calls),
        int(promised[0]),
        int(promised[1]),
        {str(cur): int(total) for cur, total in cash},
    )
