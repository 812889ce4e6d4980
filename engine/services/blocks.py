"""Dunning blocks: a person places one on a customer or an invoice (reason code, optional end
date) and lifts it with a reason; the timer expires those whose end date passed. Each step is a
transition of the block machine, with its history row and event."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from engine.blocks.views import BlockView
from engine.clock import stored
from engine.journal import record_transition
from engine.services.common import find_invoice, get, require_reason
from engine.services.context import Context
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states import block as blk
from states.actors import Actor
from states.block import BLOCK
from states.errors import ValidationFailed

PLACED = "o2c.dunning_block.placed"
CHANGED = "o2c.dunning_block.state_changed"  # lifted or expired
EVENT_TYPES = (PLACED, CHANGED)


def place_block(
    ctx: Context,
    customer_id: int,
    invoice_id: int | None,
    reason_code: str,
    ends_on: date | None,
    note: str | None,
    actor: Actor,
) -> BlockView:
    if reason_code not in blk.REASON_CODES:
        raise ValidationFailed(
            f"unknown block reason '{reason_code}'; one of {', '.join(blk.REASON_CODES)}", "reason_code"
        )
    today = ctx.today()
    if ends_on is not None and ends_on < today:
        raise ValidationFailed(f"a block ends today ({today.isoformat()}) or later", "ends_on")

    def work(uow: UnitOfWork) -> BlockView:
        customer = get(uow, "Customer", customer_id)
        inv = find_invoice(uow, customer, invoice_id, None) if invoice_id is not None else None
        b = uow.DunningBlock(
            customer=customer,
            invoice=inv,
            reason_code=reason_code,
            note=note,
            starts_on=today,
            ends_on=ends_on,
            status=blk.ACTIVE,
            placed_by=str(actor),
            placed_at=stored(ctx.now()),
        )
        uow.flush()
        _record(uow, ctx, b, None, blk.ACTIVE, "place", actor, note, PLACED)
        return BlockView.of(b)

    return transact(ctx.store, work)


def lift_block(ctx: Context, block_id: int, reason: str | None, actor: Actor) -> BlockView:
    why = require_reason(reason)

    def work(uow: UnitOfWork) -> BlockView:
        b = get(uow, "DunningBlock", block_id)
        _fire(uow, ctx, b, "lift", actor, why)
        return BlockView.of(b)

    return transact(ctx.store, work)


def expire_blocks(ctx: Context, as_of: date, actor: Actor) -> list[int]:
    """Blocks whose end date is before `as_of` expire (each its own transaction)."""
    with read_only(ctx.store) as uow:
        due = [
            int(r)
            for r in uow.select(
                "SELECT id FROM dunning_block WHERE status = 'active' AND ends_on < $d ORDER BY id",
                {"d": as_of.isoformat()},
            )
        ]
    expired: list[int] = []
    for block_id in due:

        def work(uow: UnitOfWork, block_id: int = block_id) -> bool:
            b = uow.DunningBlock.get_for_update(id=block_id)
            if b is None or b.status != blk.ACTIVE or b.ends_on is None or b.ends_on >= as_of:
                return False
            _fire(uow, ctx, b, "expire", actor, f"ended on {b.ends_on.isoformat()}")
            return True

        if transact(ctx.store, work):
            expired.append(block_id)
    return expired


def blocks_of(ctx: Context, customer_id: int, invoice_id: int | None, active_only: bool) -> list[BlockView]:
    """A customer's blocks (those on the customer and on its invoices), or one invoice's (its
    own and its customer's), newest first."""
    with read_only(ctx.store) as uow:
        found = uow.DunningBlock.select(lambda b: b.customer.id == customer_id)
        views = [BlockView.of(b) for b in found]
    if invoice_id is not None:
        views = [v for v in views if v.invoice_id in (None, invoice_id)]
    if active_only:
        views = [v for v in views if v.status == blk.ACTIVE]
    return sorted(views, key=lambda v: v.id, reverse=True)


def _fire(uow: UnitOfWork, ctx: Context, b: Entity, trigger: str, actor: Actor, why: str) -> None:
    light = SimpleNamespace(state=b.status)  # the column is `status`; the machine reads `state`
    before, after = BLOCK.fire(light, trigger, b.id)
    b.status, b.version = after, b.version + 1
    b.ended_at, b.ended_by, b.end_reason = stored(ctx.now()), str(actor), why
    _record(uow, ctx, b, before, after, trigger, actor, why, CHANGED)


def _record(
    uow: UnitOfWork,
    ctx: Context,
    b: Entity,
    before: str | None,
    after: str,
    trigger: str,
    actor: Actor,
    why: str | None,
    event: str,
) -> None:
    facts: dict[str, Any] = {"reason_code": b.reason_code, "ends_on": b.ends_on.isoformat() if b.ends_on else None}
    record_transition(
        uow,
        entity_type="dunning_block",
        entity_id=b.id,
        entity_version=b.version,
        customer_id=b.customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=ctx.now(),
        facts=facts,
        reason=why,
        snapshot={
            "id": b.id,
            "customerId": b.customer.id,
            "invoiceId": b.invoice.id if b.invoice else None,
            "reasonCode": b.reason_code,
            "status": b.status,
            "startsOn": b.starts_on.isoformat(),
            "endsOn": b.ends_on.isoformat() if b.ends_on else None,
            "version": b.version,
        },
        event_type=event,
    )
