"""Cash application: a payment is allocated to named invoices; the rest is unapplied credit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.clock import stored
from engine.commands import RecordPayment
from engine.journal import emit
from engine.scoring import score_customer
from engine.services.common import (
    close_side_records,
    find_invoice,
    fire_invoice,
    get,
    record_amount_change,
)
from engine.services.context import Context
from engine.services.holds import clear_automatic_holds
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, transact
from engine.views import PaymentView
from states import invoice as inv_states
from states.actors import Actor
from states.errors import ValidationFailed
from states.money import check_currency, format_minor


def validate_payment(cmd: RecordPayment) -> None:
    if not cmd.reference.strip():
        raise ValidationFailed("payment reference must not be empty", "reference")
    if cmd.amount <= 0:
        raise ValidationFailed("payment amount must be positive", "amount")
    check_currency(cmd.currency)
    if any(line.amount <= 0 for line in cmd.allocations):
        raise ValidationFailed("every allocation must be positive", "allocations")
    total = sum(line.amount for line in cmd.allocations)
    if total > cmd.amount:
        raise ValidationFailed(f"allocations ({total}) exceed the payment ({cmd.amount}) in minor units", "allocations")


def check_received_on(ctx: Context, received_on: date) -> None:
    """Money not yet received is not a payment: a date after the business date (plus
    `O2C_PAYMENT_FUTURE_DAYS`, default 0, for banks that value-date ahead) is refused."""
    raw = ctx.settings.extra.get("O2C_PAYMENT_FUTURE_DAYS", "0").strip() or "0"
    if not raw.isdigit():
        raise ValidationFailed(f"O2C_PAYMENT_FUTURE_DAYS={raw!r} is not a whole number of days")
    latest = ctx.today() + timedelta(days=int(raw))
    if received_on > latest:
        raise ValidationFailed(
            f"a payment received on {received_on} is in the future (the latest date accepted is {latest})",
            "receivedOn",
        )


def apply_payment(ctx: Context, cmd: RecordPayment, actor: Actor) -> PaymentView:
    """Record the payment, lower open amounts, mark fully paid invoices `paid`, keep the excess
    as unapplied credit and release automatic holds whose condition cleared — one transaction."""
    validate_payment(cmd)
    check_received_on(ctx, cmd.received_on)

    def work(uow: UnitOfWork) -> PaymentView:
        customer = get(uow, "Customer", cmd.customer_id)
        if uow.Payment.get(customer=customer, reference=cmd.reference) is not None:
            raise ValidationFailed(f"payment '{cmd.reference}' was already recorded for this customer", "reference")
        now, today = ctx.now(), ctx.today()
        payment = uow.Payment(
            customer=customer,
            reference=cmd.reference,
            received_on=cmd.received_on,
            currency=check_currency(cmd.currency),
            amount=cmd.amount,
            created_at=stored(now),
        )
        uow.flush()
        cause = {"kind": "payment", "payment_id": payment.id, "reference": cmd.reference}
        applied = 0
        for line in cmd.allocations:
            inv = find_invoice(uow, customer, line.invoice_id, line.invoice_number)
            applied += _allocate(uow, payment, inv, line.amount, actor, now, today, cause)
        payment.unapplied_amount = cmd.amount - applied
        customer.unapplied_credit += payment.unapplied_amount
        uow.flush()
        emit(
            uow,
            type="o2c.payment.applied",
            entity_type="payment",
            entity_id=payment.id,
            entity_version=1,
            customer_id=customer.id,
            at=now,
            data={
                "snapshot": {
                    "id": payment.id,
                    "reference": payment.reference,
                    "currency": payment.currency,
                    "amount": format_minor(payment.amount, payment.currency),
                    "unapplied": format_minor(payment.unapplied_amount, payment.currency),
                    "allocations": [
                        {"invoiceId": a.invoice.id, "amount": format_minor(a.amount, payment.currency)}
                        for a in payment.allocations
                    ],
                }
            },
        )
        clear_automatic_holds(uow, customer, actor, now, cause, today)
        score_customer(uow, customer.id, today, at=now)  # payment history changed: the risk score follows
        return PaymentView.of(payment)

    return transact(ctx.store, work)


def _allocate(
    uow: UnitOfWork,
    payment: Entity,
    inv: Entity,
    wanted: int,
    actor: Actor,
    now: datetime,
    today: date,
    cause: dict[str, object],
) -> int:
    """Apply up to `wanted` to the invoice; what exceeds its open amount stays unapplied."""
    if inv.currency != payment.currency:
        raise ValidationFailed(
            f"invoice {inv.number} is in {inv.currency}, the payment in {payment.currency}", "currency"
        )
    if inv.state not in inv_states.COLLECTIBLE:
        raise ValidationFailed(f"invoice {inv.number} is {inv.state} and takes no payment", "allocations")
    amount = min(wanted, inv.open_amount)
    if amount <= 0:
        return 0
    uow.Allocation(payment=payment, invoice=inv, amount=amount)
    inv.open_amount -= amount
    if inv.open_amount == 0:
        settle(uow, inv, actor, now, today, cause, "paid in full")
    else:
        record_amount_change(uow, inv, now, cause, "partial payment")
    return int(amount)


def settle(
    uow: UnitOfWork, inv: Entity, actor: Actor, now: datetime, today: date, cause: dict[str, object], why: str
) -> None:
    """The open amount reached zero: the invoice is paid; promises are kept, disputes withdrawn."""
    close_side_records(uow, inv, actor, now, cause, promise_status="kept", why="invoice settled")
    fire_invoice(uow, inv, "pay", actor, now, today, reason=why, cause=cause)


def reverse_payment(ctx: Context, payment_id: int, reason: str, actor: Actor) -> PaymentView:
    """A bounced or recalled payment: its allocations return to the invoices; a paid invoice reopens."""
    why = (reason or "").strip()
    if not why:
        raise ValidationFailed("a reason is required", "reason")

    def work(uow: UnitOfWork) -> PaymentView:
        payment = get(uow, "Payment", payment_id)
        if payment.reversed_at is not None:
            raise ValidationFailed(f"payment {payment.reference} is already reversed", "payment_id")
        now, today = ctx.now(), ctx.today()
        cause = {"kind": "payment_reversal", "payment_id": payment.id}
        for alloc in payment.allocations.order_by(lambda a: a.id):
            inv = alloc.invoice
            inv.open_amount += alloc.amount
            if inv.state == inv_states.PAID:
                fire_invoice(uow, inv, "reopen", actor, now, today, reason=why, cause=cause)
            else:
                record_amount_change(uow, inv, now, cause, why)
        customer = payment.customer
        customer.unapplied_credit -= payment.unapplied_amount
        payment.reversed_at = stored(now)
        emit(
            uow,
            type="o2c.payment.reversed",
            entity_type="payment",
            entity_id=payment.id,
            entity_version=2,  # 1 was o2c.payment.applied; a payment is reversed at most once
            customer_id=customer.id,
            at=now,
            data={
                "reason": why,
                "actor": str(actor),
                "snapshot": {"id": payment.id, "reference": payment.reference},
            },
        )
        return PaymentView.of(payment)

    return transact(ctx.store, work)
