"""Disputes: opening one pauses dunning on its invoice; resolving it may issue a credit note."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import stored
from engine.commands import OpenDispute, ResolveDispute
from engine.scoring import score_customer
from engine.services.common import fire_invoice, get, record_dispute_transition
from engine.services.context import Context
from engine.services.holds import clear_automatic_holds
from engine.services.payments import settle
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, transact
from engine.views import DisputeView
from states import dispute as dsp
from states import invoice as inv_states
from states.actors import Actor
from states.dispute import DISPUTE
from states.errors import ValidationFailed

# Days to resolve a dispute before it escalates, per reason code.
SLA_DAYS = {
    "pricing": 10,
    "quantity": 10,
    "quality": 15,
    "not_received": 7,
    "duplicate": 5,
    "terms": 15,
    "other": 15,
}
ADVANCE_TRIGGERS = ("review", "request_info", "customer_replied", "escalate", "withdraw")


def open_dispute(ctx: Context, cmd: OpenDispute, actor: Actor) -> DisputeView:
    if cmd.reason_code not in dsp.REASON_CODES:
        raise ValidationFailed(
            f"unknown dispute reason '{cmd.reason_code}'; one of {', '.join(dsp.REASON_CODES)}", "reason_code"
        )

    def work(uow: UnitOfWork) -> DisputeView:
        inv = get(uow, "Invoice", cmd.invoice_id)
        if any(d.state in dsp.ACTIVE for d in inv.disputes):
            raise ValidationFailed(f"invoice {inv.number} already has an open dispute", "invoice_id")
        amount = inv.open_amount if cmd.amount is None else cmd.amount
        now = ctx.now()
        # Fire first so that a final invoice is refused as the forbidden trigger it is; a bad
        # amount below rolls the whole unit of work back.
        fire_invoice(uow, inv, "dispute", actor, now, ctx.today(), reason=f"dispute: {cmd.reason_code}")
        if not 0 < amount <= inv.open_amount:
            raise ValidationFailed("the disputed amount must be positive and at most the open amount", "amount")
        d = uow.Dispute(
            invoice=inv,
            customer=inv.customer,
            reason_code=cmd.reason_code,
            amount=amount,
            state=dsp.OPEN,
            description=cmd.description,
            opened_at=stored(now),
            due_at=stored(now + timedelta(days=SLA_DAYS[cmd.reason_code])),
        )
        uow.flush()
        record_dispute_transition(uow, d, None, dsp.OPEN, "open", actor, now, None, cmd.description)
        score_customer(uow, inv.customer.id, ctx.today(), at=ctx.now())  # the dispute rate is part of the score
        return DisputeView.of(d)

    return transact(ctx.store, work)


def advance_dispute(ctx: Context, dispute_id: int, trigger: str, actor: Actor, note: str | None = None) -> DisputeView:
    if trigger not in ADVANCE_TRIGGERS:
        raise ValidationFailed(f"'{trigger}' is not a dispute step; one of {', '.join(ADVANCE_TRIGGERS)}", "trigger")

    def work(uow: UnitOfWork) -> DisputeView:
        d = get(uow, "Dispute", dispute_id)
        _fire(uow, ctx, d, trigger, actor, note)
        if d.state == dsp.WITHDRAWN:
            d.resolved_at = stored(ctx.now())
            _resume_invoice(uow, ctx, d.invoice, actor, "dispute withdrawn")
        return DisputeView.of(d)

    return transact(ctx.store, work)


def resolve_dispute(ctx: Context, cmd: ResolveDispute, actor: Actor) -> DisputeView:
    if cmd.outcome not in dsp.OUTCOMES:
        raise ValidationFailed(f"unknown outcome '{cmd.outcome}'; one of {', '.join(dsp.OUTCOMES)}", "outcome")
    if cmd.outcome == "partial" and not (cmd.credit_amount and cmd.credit_amount > 0):
        raise ValidationFailed("a partial resolution needs a positive credit amount", "credit_amount")
    if cmd.outcome != "partial" and cmd.credit_amount is not None:
        raise ValidationFailed("only a partial resolution takes a credit amount", "credit_amount")

    def work(uow: UnitOfWork) -> DisputeView:
        d = get(uow, "Dispute", cmd.dispute_id)
        inv = d.invoice
        credit = {"accepted": d.amount, "partial": cmd.credit_amount or 0, "rejected": 0}[cmd.outcome]
        credit = min(credit, inv.open_amount)
        if cmd.outcome == "partial" and (cmd.credit_amount or 0) > d.amount:
            raise ValidationFailed("the credit exceeds the disputed amount", "credit_amount")
        now = ctx.now()
        _fire(uow, ctx, d, "resolve", actor, cmd.note, outcome=cmd.outcome)
        d.outcome, d.credit_amount, d.resolved_at = cmd.outcome, credit or None, stored(now)
        cause = {"kind": "dispute", "dispute_id": d.id, "outcome": cmd.outcome}
        if credit:
            uow.CreditNote(
                invoice=inv,
                dispute=d,
                amount=credit,
                reason=f"dispute {d.id} {cmd.outcome}",
                created_at=stored(now),
            )
            inv.open_amount -= credit
        if inv.open_amount == 0:
            if any(True for _ in inv.allocations):
                settle(uow, inv, actor, now, ctx.today(), cause, "settled by payment and credit note")
            else:
                fire_invoice(uow, inv, "cancel", actor, now, ctx.today(), reason="credited in full", cause=cause)
        else:
            _resume_invoice(uow, ctx, inv, actor, f"dispute {cmd.outcome}", cause)
        clear_automatic_holds(uow, inv.customer, actor, now, cause, ctx.today())
        score_customer(uow, inv.customer.id, ctx.today(), at=now)
        return DisputeView.of(d)

    return transact(ctx.store, work)


def _fire(uow: UnitOfWork, ctx: Context, d: Entity, trigger: str, actor: Actor, note: str | None, **kw: str) -> None:
    before, after = DISPUTE.fire(d, trigger, d.id, **kw)
    d.version += 1
    record_dispute_transition(uow, d, before, after, trigger, actor, ctx.now(), None, note)


def _resume_invoice(
    uow: UnitOfWork, ctx: Context, inv: Entity, actor: Actor, why: str, cause: dict[str, object] | None = None
) -> None:
    if inv.state == inv_states.DISPUTED:
        fire_invoice(uow, inv, "resolve_dispute", actor, ctx.now(), ctx.today(), reason=why, cause=cause)
