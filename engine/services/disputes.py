"""Disputes: opening one pauses dunning on its invoice; resolving it may issue a credit note."""

from __future__ import annotations

from datetime import datetime

from engine.clock import loaded, stored
from engine.commands import OpenDispute, ResolveDispute
from engine.journal import emit
from engine.policy.disputes import dispute_policy
from engine.scoring import score_customer
from engine.services.common import dispute_snapshot, fire_invoice, get, require_reason
from engine.services.context import Context
from engine.services.dispute_steps import fire_dispute, resume_invoice, start_dispute, withdraw_dispute
from engine.services.holds import clear_automatic_holds
from engine.services.payments import settle
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.views import DisputeView
from states import dispute as dsp
from states.actors import Actor
from states.errors import ValidationFailed

ADVANCE_TRIGGERS = ("review", "request_info", "customer_replied", "escalate", "withdraw")


def open_dispute(ctx: Context, cmd: OpenDispute, actor: Actor) -> DisputeView:
    if cmd.reason_code not in dsp.REASON_CODES:
        raise ValidationFailed(
            f"unknown dispute reason '{cmd.reason_code}'; one of {', '.join(dsp.REASON_CODES)}", "reason_code"
        )

    policy = dispute_policy(ctx.settings.policy_dir)

    def work(uow: UnitOfWork) -> DisputeView:
        inv = get(uow, "Invoice", cmd.invoice_id)
        amount = inv.open_amount if cmd.amount is None else cmd.amount
        d = start_dispute(
            uow,
            inv,
            cmd.reason_code,
            amount,
            cmd.description,
            actor,
            ctx.now(),
            ctx.today(),
            sla_days=policy.sla_days(cmd.reason_code, inv.customer.segment),
            owner=policy.owner,
        )
        score_customer(uow, inv.customer.id, ctx.today(), at=ctx.now())  # the dispute rate is part of the score
        return DisputeView.of(d)

    return transact(ctx.store, work)


def advance_dispute(ctx: Context, dispute_id: int, trigger: str, actor: Actor, note: str | None = None) -> DisputeView:
    if trigger not in ADVANCE_TRIGGERS:
        raise ValidationFailed(f"'{trigger}' is not a dispute step; one of {', '.join(ADVANCE_TRIGGERS)}", "trigger")

    def work(uow: UnitOfWork) -> DisputeView:
        d = get(uow, "Dispute", dispute_id)
        if trigger == "withdraw":
            withdraw_dispute(uow, d, actor, ctx.now(), ctx.today(), note)
        else:
            fire_dispute(uow, d, trigger, actor, ctx.now(), note)
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
        fire_dispute(uow, d, "resolve", actor, now, cmd.note, outcome=cmd.outcome)
        d.outcome, d.credit_amount, d.resolved_at = cmd.outcome, credit or None, stored(now)
        cause = {"kind": "dispute", "dispute_id": d.id, "outcome": cmd.outcome}
        if credit:
            note = uow.CreditNote(
                invoice=inv,
                dispute=d,
                amount=credit,
                reason=f"dispute {d.id} {cmd.outcome}",
                created_at=stored(now),
            )
            uow.flush()
            note.number = credit_note_number(note.id, ctx.today().year)
            inv.open_amount -= credit
        if inv.open_amount == 0:
            if any(True for _ in inv.allocations):
                settle(uow, inv, actor, now, ctx.today(), cause, "settled by payment and credit note")
            else:
                fire_invoice(uow, inv, "cancel", actor, now, ctx.today(), reason="credited in full", cause=cause)
        else:
            resume_invoice(uow, inv, actor, now, ctx.today(), f"dispute {cmd.outcome}", cause)
        clear_automatic_holds(uow, inv.customer, actor, now, cause, ctx.today())
        score_customer(uow, inv.customer.id, ctx.today(), at=now)
        return DisputeView.of(d)

    return transact(ctx.store, work)


def credit_note_number(note_id: int, year: int) -> str:
    """`CN-2026-000042`: the year it was issued and its id (unique, never reused)."""
    return f"CN-{year}-{note_id:06d}"


COMMENTED = "o2c.dispute.commented"
OWNER_CHANGED = "o2c.dispute.owner_changed"
EVENT_TYPES = (COMMENTED, OWNER_CHANGED)
MAX_COMMENT = 4000


def comment_on_dispute(ctx: Context, dispute_id: int, text: str, actor: Actor) -> DisputeView:
    body = require_reason(text, "text")
    if len(body) > MAX_COMMENT:
        raise ValidationFailed(f"a comment has at most {MAX_COMMENT} characters", "text")

    def work(uow: UnitOfWork) -> DisputeView:
        d = get(uow, "Dispute", dispute_id)
        now = ctx.now()
        uow.DisputeComment(dispute=d, author=str(actor), text=body, at=stored(now))
        _news(uow, d, now, COMMENTED, {"author": str(actor), "text": body})
        return DisputeView.of(d)

    return transact(ctx.store, work)


def assign_dispute(ctx: Context, dispute_id: int, owner: str, actor: Actor) -> DisputeView:
    who = require_reason(owner, "owner")

    def work(uow: UnitOfWork) -> DisputeView:
        d = get(uow, "Dispute", dispute_id)
        before, d.owner = d.owner, who
        _news(uow, d, ctx.now(), OWNER_CHANGED, {"from": before, "to": who, "actor": str(actor)})
        return DisputeView.of(d)

    return transact(ctx.store, work)


def comments_of(ctx: Context, dispute_id: int) -> list[tuple[str, str, datetime]]:
    """(author, text, at) of a dispute's comments, oldest first."""
    with read_only(ctx.store) as uow:
        d = get(uow, "Dispute", dispute_id)
        return [(c.author, c.text, loaded(c.at)) for c in d.comments.order_by(lambda c: c.id)]


def _news(uow: UnitOfWork, d: Entity, at: datetime, event: str, data: dict[str, object]) -> None:
    """A change of the dispute that is no transition: a new version and its event."""
    d.version += 1
    emit(
        uow,
        type=event,
        entity_type="dispute",
        entity_id=d.id,
        entity_version=d.version,
        customer_id=d.customer.id,
        at=at,
        data={**data, "snapshot": dispute_snapshot(d)},
    )


def credit_notes_of(ctx: Context, dispute_id: int) -> list[tuple[str | None, int]]:
    """(number, amount) of the credit notes a dispute's resolution issued."""
    with read_only(ctx.store) as uow:
        d = get(uow, "Dispute", dispute_id)
        return [(n.number, n.amount) for n in d.credit_notes.order_by(lambda n: n.id)]
