"""Read side of webhook deliveries and their attempts (what the API lists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.clock import loaded
from engine.store.database import Store
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only
from states.errors import ValidationFailed

STATUSES = ("pending", "succeeded", "dead")


@dataclass(frozen=True)
class AttemptView:
    id: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    dispatcher: str


@dataclass(frozen=True)
class DeliveryView:
    id: int
    endpoint_id: int
    event_position: int
    event_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    attempt_log: tuple[AttemptView, ...]


def view_of(d: Entity) -> DeliveryView:
    attempts = tuple(
        AttemptView(a.id, loaded(a.attempted_at), a.status_code, a.error, a.duration_ms, a.dispatcher)
        for a in d.attempt_log.order_by(lambda a: a.id)
    )
    return DeliveryView(
        id=d.id,
        endpoint_id=d.endpoint.id,
        event_position=d.event_position,
        event_id=d.event_id,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=loaded(d.next_attempt_at),
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=loaded(d.created_at),
        updated_at=loaded(d.updated_at),
        attempt_log=attempts,
    )


def list_deliveries(
    store: Store,
    endpoint_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[DeliveryView]:
    """Newest first; page with `before_id` (the last id of the previous page)."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status is one of {', '.join(STATUSES)}", "status")
    with read_only(store) as uow:
        q = uow.WebhookDelivery.select()
        if endpoint_id is not None:
            q = q.filter(lambda d: d.endpoint.id == endpoint_id)
        if status is not None:
            q = q.filter(lambda d: d.status == status)
        if before_id is not None:
            q = q.filter(lambda d: d.id < before_id)
        return [view_of(d) for d in q.order_by(lambda d: -d.id).limit(limit)]


def get_delivery(store: Store, delivery_id: int) -> DeliveryView | None:
    with read_only(store) as uow:
        d = uow.WebhookDelivery.get(id=delivery_id)
        return view_of(d) if d is not None else None


DELIVERY_RETENTION_DAYS = 14


def prune(store: Store, now: datetime, days: int = DELIVERY_RETENTION_DAYS, batch: int = 1000) -> int:
    """Remove finished (succeeded or dead) deliveries, with their attempts, last touched more
    than `days` ago. Pending ones are kept whatever their age. Returns how many were removed."""
    from engine.clock import stored
    from engine.store.unit_of_work import transact

    cutoff = stored(now - timedelta(days=days)).isoformat(sep=" ", timespec="microseconds")

    def work(uow: UnitOfWork) -> int:
        ids = [
            int(i)
            for i in uow.select(
                "SELECT id FROM webhook_delivery WHERE status <> 'pending' AND updated_at < $cutoff"
                " ORDER BY id LIMIT $n",
                {"cutoff": cutoff, "n": batch},
            )
        ]
        for i in ids:
            uow.WebhookDelivery[i].delete()
        return len(ids)

    return transact(store, work)
