"""Outbox reads by id cursor: what subscriptions poll (and what replay will serve)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.clock import loaded
from engine.queries.sql import Params
from engine.store.database import Store
from engine.store.unit_of_work import read_only


@dataclass(frozen=True)
class EventView:
    position: int  # the outbox id: the cursor to resume after
    id: str  # the event id (consumers deduplicate by it)
    type: str
    subject: str
    entity_type: str
    entity_id: int
    entity_version: int
    customer_id: int | None
    time: datetime
    data: dict[str, Any]

    @staticmethod
    def of(e: Any) -> EventView:
        """From an outbox row (inside a unit of work)."""
        return EventView(
            e.id,
            e.event_id,
            e.type,
            e.subject,
            e.entity_type,
            e.entity_id,
            e.entity_version,
            e.customer_id,
            loaded(e.time),
            dict(e.data),
        )


def events_after(
    store: Store,
    after: int,
    limit: int,
    types: Sequence[str] = (),
    subject: str | None = None,
    customer_id: int | None = None,
    until: int | None = None,
) -> list[EventView]:
    """Up to `limit` events with `after < position (<= until)`, oldest first, filtered."""
    p = Params()
    clauses = [f"id > {p.add(after)}"]
    if until is not None:
        clauses.append(f"id <= {p.add(until)}")
    if types:
        clauses.append(f"type IN {p.many(types)}")
    if subject:
        clauses.append(f"subject = {p.add(subject)}")
    if customer_id is not None:
        clauses.append(f"customer_id = {p.add(customer_id)}")
    sql = f"SELECT * FROM outbox WHERE {' AND '.join(clauses)} ORDER BY id LIMIT {p.add(limit)}"
    with read_only(store) as uow:
        return [EventView.of(e) for e in uow.OutboxEvent.select_by_sql(sql, p.bound())]


def last_position(store: Store) -> int:
    with read_only(store) as uow:
        return int(uow.select("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])
