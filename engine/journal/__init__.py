"""Writes what happened: one history row per transition and the outbox event that reports it,
in the caller's unit of work, so the change, its history and its event commit together.

`engine.journal.batch` writes the same rows in bulk (import, demo, scoring); `catalogue` lists
every event type with the schema of its data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.clock import stored
from engine.journal.catalogue import event_type as catalogued
from engine.store.unit_of_work import UnitOfWork
from engine.tracing import traceparent
from states.actors import Actor

ENTITY_PATHS = {
    "invoice": "invoices",
    "dispute": "disputes",
    "account": "customers",
    "payment": "payments",
    "task": "tasks",
    "dunning_block": "dunning-blocks",
    "note": "notes",
    "attachment": "attachments",
    "write_off": "write-offs",
    "bank_transaction": "bank-transactions",
    "notice": "notices",
}


def emit(
    uow: UnitOfWork,
    *,
    type: str,
    entity_type: str,
    entity_id: int,
    entity_version: int,
    customer_id: int | None,
    at: datetime,
    data: dict[str, Any],
) -> str:
    """Append one event to the outbox; returns its id (a UUID, the consumer's dedup key)."""
    event_id = str(uuid.uuid4())
    uow.OutboxEvent(
        event_id=event_id,
        type=catalogued(type).name,
        subject=f"{ENTITY_PATHS[entity_type]}/{entity_id}",
        entity_type=entity_type,
        entity_id=entity_id,
        entity_version=entity_version,
        customer_id=customer_id,
        time=stored(at),
        data=traced({**data, "entityVersion": entity_version}),
    )
    return event_id


def traced(data: dict[str, Any]) -> dict[str, Any]:
    """The event data with the current span's `traceparent` when one is recording (OpenTelemetry)."""
    parent = traceparent()
    return {**data, "traceparent": parent} if parent else data


def transition_data(
    from_state: str | None,
    to_state: str,
    trigger: str,
    actor: Actor,
    cause: dict[str, Any],
    reason: str | None,
    snapshot: dict[str, Any] | None,
) -> dict[str, Any]:
    """The data of a transition's event, as one row (`record_transition`) and bulk (`JournalBatch`) write it."""
    return {
        "from": from_state,
        "to": to_state,
        "trigger": trigger,
        "actor": str(actor),
        "cause": cause,
        "reason": reason,
        "snapshot": snapshot or {},
    }


def record_transition(
    uow: UnitOfWork,
    *,
    entity_type: str,
    entity_id: int,
    entity_version: int,
    customer_id: int | None,
    from_state: str | None,
    to_state: str,
    trigger: str,
    actor: Actor,
    at: datetime,
    cause: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
    reason: str | None = None,
    snapshot: dict[str, Any] | None = None,
    event_type: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """History row + outbox event for one transition (`extra`: more fields of the event's data)."""
    cause = cause or actor.cause()
    uow.TransitionRecord(
        entity_type=entity_type,
        entity_id=entity_id,
        entity_version=entity_version,
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor=str(actor),
        cause=cause,
        facts=facts or {},
        reason=reason,
        at=stored(at),
    )
    emit(
        uow,
        type=event_type or f"o2c.{entity_type}.state_changed",
        entity_type=entity_type,
        entity_id=entity_id,
        entity_version=entity_version,
        customer_id=customer_id,
        at=at,
        data={**transition_data(from_state, to_state, trigger, actor, cause, reason, snapshot), **(extra or {})},
    )
