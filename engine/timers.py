"""Timers: promises reaching their date plus tolerance are kept or broken; disputes past their
SLA escalate. Each item is its own transaction, so a crash repeats nothing already decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from engine import crash
from engine.clock import stored
from engine.scoring import score_customer
from engine.services.blocks import expire_blocks
from engine.services.common import fire_invoice, record_dispute_transition
from engine.services.context import Context
from engine.services.tasks import wake_snoozed
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states import dispute as dsp
from states import invoice as inv_states
from states.actors import Actor
from states.dispute import DISPUTE

TIMER = Actor("timer", "o2c")


@dataclass
class TimerReport:
    promises_kept: list[int] = field(default_factory=list)
    promises_broken: list[int] = field(default_factory=list)
    disputes_escalated: list[int] = field(default_factory=list)
    tasks_woken: list[int] = field(default_factory=list)
    blocks_expired: list[int] = field(default_factory=list)
    reopened_invoices: list[int] = field(default_factory=list)  # their promise broke: dunning resumes

    @property
    def touched_invoices(self) -> int:
        return len(self.promises_kept) + len(self.promises_broken)


def due_promises(ctx: Context, as_of: date) -> list[int]:
    with read_only(ctx.store) as uow:
        rows = uow.select(
            "SELECT id, promised_date, tolerance_days FROM promise_to_pay WHERE status = 'active' "
            "ORDER BY promised_date, id"
        )
    return [int(r[0]) for r in rows if _to_date(r[1]) + timedelta(days=int(r[2])) < as_of]


def decide_promise(ctx: Context, promise_id: int, as_of: date) -> str | None:
    """Kept when payments received from the promise's creation to its date + tolerance cover
    the promised amount; otherwise broken: dunning resumes and the customer's count grows."""

    def work(uow: UnitOfWork) -> str | None:
        p = uow.PromiseToPay.get_for_update(id=promise_id)
        if p is None or p.status != "active":
            return None
        deadline = p.promised_date + timedelta(days=p.tolerance_days)
        if deadline >= as_of:
            return None
        created = p.created_at.date()
        paid = sum(
            a.amount
            for a in p.invoice.allocations
            if a.payment.reversed_at is None and created <= a.payment.received_on <= deadline
        )
        inv, now = p.invoice, ctx.now()
        kept = paid >= p.amount or inv.open_amount == 0
        p.status, p.decided_at = ("kept" if kept else "broken"), stored(now)
        cause = {
            "kind": "timer",
            "timer": "promise_due",
            "promise_id": p.id,
            "paid": paid,
            "promised": p.amount,
        }
        if not kept:
            p.customer.broken_promises += 1
            score_customer(uow, p.customer.id, as_of, at=now)
        if inv.state == inv_states.PROMISED:
            trigger = "keep_promise" if kept else "break_promise"
            fire_invoice(uow, inv, trigger, TIMER, now, as_of, reason=f"promise {p.status}", cause=cause)
        return str(p.status)

    return transact(ctx.store, work)


def overdue_disputes(ctx: Context) -> list[int]:
    now = stored(ctx.now())
    with read_only(ctx.store) as uow:
        return [
            int(d.id)
            for d in uow.Dispute.select(
                lambda d: d.state in ("open", "under_review", "awaiting_customer") and d.due_at < now
            )
        ]


def escalate_dispute(ctx: Context, dispute_id: int) -> bool:
    def work(uow: UnitOfWork) -> bool:
        d = uow.Dispute.get_for_update(id=dispute_id)
        if d is None or d.state not in dsp.ACTIVE or d.state == dsp.ESCALATED or d.due_at >= stored(ctx.now()):
            return False
        before, after = DISPUTE.fire(d, "escalate", d.id)
        d.version += 1
        cause = {"kind": "timer", "timer": "dispute_sla", "due_at": d.due_at.isoformat()}
        record_dispute_transition(uow, d, before, after, "escalate", TIMER, ctx.now(), cause, "SLA passed")
        return True

    return transact(ctx.store, work)


def run_timers(ctx: Context, as_of: date | None = None) -> TimerReport:
    """Decide due promises and escalate disputes past SLA. The invoices whose promise broke are
    reported (`reopened_invoices`) and resume dunning at the next date's cycle, not at once: a
    date's timers belong to its exactly-once unit (see `finish_previous_timers`)."""
    day = as_of or ctx.today()
    report = TimerReport()
    for pid in due_promises(ctx, day):
        outcome = decide_promise(ctx, pid, day)
        if outcome == "kept":
            report.promises_kept.append(pid)
        elif outcome == "broken":
            report.promises_broken.append(pid)
        crash.reached("timers.promise_judged")
    if report.promises_broken:
        with read_only(ctx.store) as uow:
            report.reopened_invoices = [int(uow.PromiseToPay[p].invoice.id) for p in report.promises_broken]
    for did in overdue_disputes(ctx):
        if escalate_dispute(ctx, did):
            report.disputes_escalated.append(did)
            crash.reached("timers.dispute_escalated")
    report.tasks_woken = wake_snoozed(ctx, day, TIMER)
    crash.reached("timers.tasks_woken")
    report.blocks_expired = expire_blocks(ctx, day, TIMER)
    crash.reached("timers.blocks_expired")
    return report


def _to_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
