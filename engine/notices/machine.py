"""Firing the notice machine on a stored message: the transition, its history row and its event
(`o2c.notice.<state>` with channel, recipient and invoices), in the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import stored
from engine.journal import record_transition
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork
from states.actors import Actor
from states.notice import NOTICE, event_type


def invoice_numbers(message: Entity) -> list[str]:
    return sorted(str(line.invoice.number) for line in message.lines)


def numbers_of(uow: UnitOfWork, message_ids: list[int]) -> dict[int, list[str]]:
    """The invoice numbers of several messages, in one statement."""
    found: dict[int, list[str]] = {i: [] for i in message_ids}
    if message_ids:
        marks = ",".join(str(int(i)) for i in message_ids)
        for mid, number in uow.select(
            f"SELECT n.message, i.number FROM notice n JOIN invoice i ON i.id = n.invoice WHERE n.message IN ({marks})"
        ):
            found[int(mid)].append(str(number))
    return {k: sorted(v) for k, v in found.items()}


def fire_notice(
    uow: UnitOfWork,
    message: Entity,
    trigger: str,
    actor: Actor,
    at: datetime,
    *,
    reason: str | None = None,
    cause: dict[str, Any] | None = None,
    invoices: list[str] | None = None,
) -> tuple[str, str]:
    before, after = NOTICE.fire(message, trigger, message.id)
    message.version += 1
    message.updated_at = stored(at)
    record_transition(
        uow,
        entity_type="notice",
        entity_id=message.id,
        entity_version=message.version,
        customer_id=message.customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=at,
        cause=cause,
        reason=reason,
        event_type=event_type(after),
        extra={
            "channel": message.via or message.channel,
            "recipient": message.recipient,
            "invoices": invoices if invoices is not None else invoice_numbers(message),
        },
    )
    return before, after
