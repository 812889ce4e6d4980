"""A bank transaction's transitions: the machine fired, the history row and the event written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import stored
from engine.journal import record_transition
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork
from states.actors import Actor
from states.bank_transaction import BANK_TRANSACTION
from states.money import format_minor


def fire_bank_transaction(
    uow: UnitOfWork, txn: Entity, trigger: str, actor: Actor, now: datetime, reason: str, confidence: int | None = None
) -> None:
    """Fire `trigger` through the shared machine, then write history and outbox in the same unit of work."""
    before, after = BANK_TRANSACTION.fire(txn, trigger, txn.id)
    txn.version += 1
    txn.updated_at = stored(now)
    record_transition(
        uow,
        entity_type="bank_transaction",
        entity_id=txn.id,
        entity_version=txn.version,
        customer_id=txn.customer.id if txn.customer else None,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=now,
        facts={"confidence": confidence if confidence is not None else txn.confidence, "amount": txn.amount},
        reason=reason[:2000],
        snapshot=snapshot(txn),
    )


def snapshot(txn: Entity) -> dict[str, Any]:
    return {
        "id": txn.id,
        "bankRef": txn.bank_ref,
        "state": txn.state,
        "amount": format_minor(txn.amount, txn.currency),
        "currency": txn.currency,
        "customerId": txn.customer.id if txn.customer else None,
        "paymentId": txn.payment.id if txn.payment else None,
        "confidence": txn.confidence,
        "version": txn.version,
    }
