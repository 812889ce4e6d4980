"""Write-offs within limits: a person writes off an escalated invoice alone when its open amount
is within their role's limit (policy/credit.yaml); above it, the write-off is a request that
another person, whose own limit covers it, approves or rejects. Both steps are in the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from engine.clock import loaded, stored
from engine.journal import record_transition
from engine.policy.credit import credit_policy
from engine.services.common import fire_invoice, get, require_reason
from engine.services.context import Context
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states import write_off as wo
from states.actors import Actor
from states.errors import Forbidden, InvalidTransition
from states.invoice import INVOICE
from states.money import format_minor
from states.write_off import WRITE_OFF


@dataclass(frozen=True)
class WriteOffView:
    id: int
    invoice_id: int
    customer_id: int
    amount: int
    currency: str
    status: str
    note: str | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None

    @staticmethod
    def of(r: Entity) -> WriteOffView:
        return WriteOffView(
            r.id, r.invoice.id, r.customer.id, r.amount, r.currency, r.status, r.note, r.requested_by,
            loaded(r.requested_at), r.decided_by, loaded(r.decided_at) if r.decided_at else None, r.decision_note,
        )  # fmt: skip


@dataclass(frozen=True)
class WriteOffOutcome:
    written_off: bool  # at once, within the requester's limit
    request: WriteOffView | None  # otherwise the request waiting for an approver


def write_off(ctx: Context, invoice_id: int, note: str | None, actor: Actor, role: str) -> WriteOffOutcome:
    why = require_reason(note, "note")
    policy = credit_policy(ctx.settings.policy_dir)

    def work(uow: UnitOfWork) -> WriteOffOutcome:
        inv = get(uow, "Invoice", invoice_id)
        if "write_off" not in INVOICE.triggers_from(inv.state):
            raise InvalidTransition("invoice", inv.id, inv.state, "write_off", "not allowed from this state")
        if policy.may_write_off(role, inv.open_amount, inv.currency):
            cause = {"kind": "write_off", "role": role, "within_limit": True}
            fire_invoice(uow, inv, "write_off", actor, ctx.now(), ctx.today(), reason=why, cause=cause)
            return WriteOffOutcome(True, None)
        if any(r.status == wo.PENDING for r in inv.write_offs):
            raise Forbidden(f"invoice {inv.number} already has a write-off request waiting for approval")
        request = uow.WriteOffRequest(
            invoice=inv, customer=inv.customer, amount=inv.open_amount, currency=inv.currency, status=wo.PENDING,
            note=why, requested_by=str(actor), requested_role=role, requested_at=stored(ctx.now()),
        )  # fmt: skip
        uow.flush()
        _record(uow, ctx, request, None, wo.PENDING, "request", actor, why)
        return WriteOffOutcome(False, WriteOffView.of(request))

    return transact(ctx.store, work)


def decide_write_off(
    ctx: Context, request_id: int, approve: bool, note: str | None, actor: Actor, role: str
) -> WriteOffView:
    """Approve (another person whose limit covers the amount; the invoice is written off in the
    same transaction) or reject (a reason required)."""
    policy = credit_policy(ctx.settings.policy_dir)
    why = note if approve else require_reason(note, "reason")

    def work(uow: UnitOfWork) -> WriteOffView:
        r = get(uow, "WriteOffRequest", request_id)
        trigger = "approve" if approve else "reject"
        if approve and not policy.may_write_off(role, r.amount, r.currency):
            shown = f"{format_minor(r.amount, r.currency)} {r.currency}"
            raise Forbidden(f"the '{role}' role may not approve a write-off of {shown}")
        light = SimpleNamespace(state=r.status)
        before, after = WRITE_OFF.fire(light, trigger, r.id, decider=str(actor), requester=r.requested_by)
        r.status, r.version = after, r.version + 1
        r.decided_by, r.decided_at, r.decision_note = str(actor), stored(ctx.now()), why
        _record(uow, ctx, r, before, after, trigger, actor, why)
        if approve:
            cause = {"kind": "write_off_approval", "request_id": r.id, "requested_by": r.requested_by}
            fire_invoice(uow, r.invoice, "write_off", actor, ctx.now(), ctx.today(), reason=r.note, cause=cause)
        return WriteOffView.of(r)

    return transact(ctx.store, work)


def pending_write_offs(ctx: Context) -> list[WriteOffView]:
    with read_only(ctx.store) as uow:
        found = uow.WriteOffRequest.select(lambda r: r.status == wo.PENDING).order_by(lambda r: r.id)
        return [WriteOffView.of(r) for r in found]


def _record(
    uow: UnitOfWork,
    ctx: Context,
    r: Entity,
    before: str | None,
    after: str,
    trigger: str,
    actor: Actor,
    why: str | None,
) -> None:
    record_transition(
        uow,
        entity_type="write_off",
        entity_id=r.id,
        entity_version=r.version,
        customer_id=r.customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=ctx.now(),
        facts={"amount": r.amount, "currency": r.currency, "requested_role": r.requested_role},
        reason=why,
        snapshot={"id": r.id, "invoiceId": r.invoice.id, "status": r.status, "requestedBy": r.requested_by},
    )
