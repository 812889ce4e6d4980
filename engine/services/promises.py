"""Promises to pay: dunning pauses until the date plus tolerance; then kept or broken."""

from __future__ import annotations

from engine.clock import stored
from engine.commands import RecordPromise
from engine.services.common import fire_invoice, get
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork, transact
from engine.views import PromiseView
from states.actors import Actor
from states.errors import ValidationFailed

MAX_PROMISE_DAYS = 90


def record_promise(ctx: Context, cmd: RecordPromise, actor: Actor) -> PromiseView:
    today = ctx.today()
    if cmd.promised_date < today:
        raise ValidationFailed("the promised date is in the past", "promised_date")
    if (cmd.promised_date - today).days > MAX_PROMISE_DAYS:
        raise ValidationFailed(f"a promise may reach at most {MAX_PROMISE_DAYS} days ahead", "promised_date")
    tolerance = ctx.settings.promise_tolerance_days if cmd.tolerance_days is None else cmd.tolerance_days
    if not 0 <= tolerance <= 30:
        raise ValidationFailed("tolerance days must be within 0..30", "tolerance_days")

    def work(uow: UnitOfWork) -> PromiseView:
        inv = get(uow, "Invoice", cmd.invoice_id)
        now = ctx.now()
        # Fire first so that a final or disputed invoice is refused as a forbidden trigger; a
        # bad amount below rolls the whole unit of work back.
        fire_invoice(
            uow,
            inv,
            "promise",
            actor,
            now,
            today,
            reason=cmd.note or f"promise to pay by {cmd.promised_date}",
        )
        if not 0 < cmd.amount <= inv.open_amount:
            raise ValidationFailed("the promised amount must be positive and at most the open amount", "amount")
        p = uow.PromiseToPay(
            invoice=inv,
            customer=inv.customer,
            amount=cmd.amount,
            promised_date=cmd.promised_date,
            tolerance_days=tolerance,
            status="active",
            note=cmd.note,
            created_by=str(actor),
            created_at=stored(now),
        )
        uow.flush()
        return PromiseView.of(p)

    return transact(ctx.store, work)
