"""Fan-out: one delivery row per (endpoint, outbox event) whose filters match.

The fan-out cursor (the last outbox position fanned out) lives in the `lease` table under
`FANOUT_CURSOR` (holder = the position; it never expires): no schema change was needed, and
`get_for_update` on that row serialises concurrent dispatchers, so each (endpoint, event)
pair is inserted once. Positions are read only up to `stable_position` — on PostgreSQL a
transaction that commits late with a lower position is never skipped.

Deliveries are created for disabled endpoints too (they wait, and resume when the endpoint is
enabled again); an endpoint receives the events fanned out after it was registered.
"""

from __future__ import annotations

from datetime import datetime

from engine.clock import stored
from engine.events.cursor import stable_position
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, transact
from engine.webhooks.endpoints import view_of

FANOUT_CURSOR = "webhooks.fanout-cursor"
NEVER = datetime(9999, 12, 31)
BATCH = 1000


def start_cursor_if_missing(uow: UnitOfWork) -> None:
    """Called when an endpoint is registered: the first endpoint starts at the log's end."""
    if uow.Lease.get_for_update(name=FANOUT_CURSOR) is None:
        top = int(uow.select("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])
        uow.Lease(name=FANOUT_CURSOR, holder=str(top), expires_at=NEVER)
        uow.flush()


def fanout_position(store: Store) -> int | None:
    with UnitOfWork(store) as uow:
        row = uow.Lease.get(name=FANOUT_CURSOR)
        return int(row.holder) if row is not None else None


def fan_out(store: Store, now: datetime, batch: int = BATCH) -> int:
    """Create the deliveries for up to `batch` new outbox events; returns how many were created."""
    horizon = stable_position(store)
    if horizon is None:
        return 0

    def work(uow: UnitOfWork) -> int:
        cursor_row = uow.Lease.get_for_update(name=FANOUT_CURSOR)
        if cursor_row is None:  # no endpoint was ever registered
            return 0
        position = int(cursor_row.holder)
        if position >= horizon:
            return 0
        events = uow.select(
            "SELECT id, event_id, type, subject FROM outbox WHERE id > $after AND id <= $until ORDER BY id LIMIT $n",
            {"after": position, "until": horizon, "n": batch},
        )
        if not events:
            cursor_row.holder = str(horizon)
            return 0
        endpoints = [(e, view_of(e)) for e in uow.WebhookEndpoint.select()]
        at = stored(now)
        created = 0
        for event in events:
            for entity, view in endpoints:
                if view.accepts(event.type, event.subject):
                    uow.WebhookDelivery(
                        endpoint=entity,
                        event_position=event.id,
                        event_id=event.event_id,
                        status="pending",
                        attempts=0,
                        next_attempt_at=at,
                        created_at=at,
                        updated_at=at,
                    )
                    created += 1
        # A full batch stops at its last event; a short one has read everything up to the horizon.
        cursor_row.holder = str(events[-1].id if len(events) == batch else horizon)
        return created

    return transact(store, work)
