"""The steps of a dispute inside a caller's unit of work, shared by the dispute commands
(`engine/services/disputes.py`) and cash application's deductions (`engine/services/deductions.py`):
opening one (pausing what it contests) and withdrawing one (resuming its invoice)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from engine.clock import stored
from engine.services.common import fire_invoice, record_dispute_transition
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork
from states import dispute as dsp
from states import invoice as inv_states
from states.actors import Actor
from states.dispute import DISPUTE
from states.errors import ValidationFailed


def has_active_dispute(inv: Entity) -> bool:
    return any(d.state in dsp.ACTIVE for d in inv.disputes)


def start_dispute(
    uow: UnitOfWork,
    inv: Entity,
    reason_code: str,
    amount: int,
    description: str | None,
    actor: Actor,
    now: datetime,
    today: date,
    *,
    sla_days: int,
    owner: str,
    cause: dict[str, Any] | None = None,
    payment: Entity | None = None,
) -> Entity:
    """Open a dispute of `amount` on the invoice (one active dispute per invoice). Of the whole open
    amount (or of an invoice off the ladder) the invoice moves to `disputed`; of a part, it stays on
    the ladder for its `collectible_amount`."""
    if has_active_dispute(inv):
        raise ValidationFailed(f"invoice {inv.number} already has an open dispute", "invoice_id")
    if amount >= inv.open_amount or inv.state not in inv_states.CHASEABLE:
        # Fired first so that a final invoice is refused as the forbidden trigger it is; a bad
        # amount below rolls the whole unit of work back.
        fire_invoice(uow, inv, "dispute", actor, now, today, reason=f"dispute: {reason_code}", cause=cause)
    if not 0 < amount <= inv.open_amount:
        raise ValidationFailed("the disputed amount must be positive and at most the open amount", "amount")
    d = uow.Dispute(
        invoice=inv,
        customer=inv.customer,
        reason_code=reason_code,
        amount=amount,
        state=dsp.OPEN,
        description=description,
        opened_at=stored(now),
        due_at=stored(now + timedelta(days=sla_days)),
        owner=owner,
        payment=payment,
    )
    uow.flush()
    record_dispute_transition(uow, d, None, dsp.OPEN, "open", actor, now, cause, description)
    return d


def fire_dispute(
    uow: UnitOfWork,
    d: Entity,
    trigger: str,
    actor: Actor,
    now: datetime,
    note: str | None,
    cause: dict[str, Any] | None = None,
    **kw: str,
) -> None:
    before, after = DISPUTE.fire(d, trigger, d.id, **kw)
    d.version += 1
    record_dispute_transition(uow, d, before, after, trigger, actor, now, cause, note)


def withdraw_dispute(
    uow: UnitOfWork,
    d: Entity,
    actor: Actor,
    now: datetime,
    today: date,
    note: str | None,
    cause: dict[str, Any] | None = None,
) -> None:
    """The dispute is withdrawn; its invoice, if the dispute paused it, returns to the ladder."""
    fire_dispute(uow, d, "withdraw", actor, now, note, cause)
    d.resolved_at = stored(now)
    resume_invoice(uow, d.invoice, actor, now, today, "dispute withdrawn", cause)


def resume_invoice(
    uow: UnitOfWork,
    inv: Entity,
    actor: Actor,
    now: datetime,
    today: date,
    why: str,
    cause: dict[str, Any] | None = None,
) -> None:
    if inv.state == inv_states.DISPUTED:
        fire_invoice(uow, inv, "resolve_dispute", actor, now, today, reason=why, cause=cause)
