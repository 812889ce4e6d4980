"""Cash application: a payment is allocated to invoices; the rest is unapplied credit, kept per
currency on the payment (the customer's `unapplied_credit` counts its own currency only). The
rules are `states.cash`; this module writes what they decide, with history and events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from engine.clock import stored
from engine.commands import AllocationLine, ApplyCredit, RecordPayment
from engine.journal import emit
from engine.scoring import score_customer
from engine.services.bank_history import fire_bank_transaction
from engine.services.common import (
    close_side_records,
    find_invoice,
    fire_invoice,
    get,
    record_amount_change,
    require_reason,
)
from engine.services.context import Context
from engine.services.deductions import DeductionTerms, open_deduction, withdraw_deductions
from engine.services.holds import clear_automatic_holds
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, transact
from engine.views import PaymentView
from states import bank_transaction as bt
from states import invoice as inv_states
from states.actors import Actor
from states.cash import Tolerance, allocation_problem, allocation_take, oldest_due_first, settles, short_payment
from states.errors import ValidationFailed
from states.money import check_currency, format_minor

NO_TOLERANCE = Tolerance()


def validate_payment(cmd: RecordPayment) -> None:
    if not cmd.reference.strip():
        raise ValidationFailed("payment reference must not be empty", "reference")
    if cmd.amount <= 0:
        raise ValidationFailed("payment amount must be positive", "amount")
    check_currency(cmd.currency)
    _check_lines(cmd.allocations, cmd.amount)


def _check_lines(lines: tuple[AllocationLine, ...], available: int, what: str = "the payment") -> None:
    if any(line.amount <= 0 for line in lines):
        raise ValidationFailed("every allocation must be positive", "allocations")
    total = sum(line.amount for line in lines)
    if total > available:
        raise ValidationFailed(f"allocations ({total}) exceed {what} ({available}) in minor units", "allocations")


@dataclass(frozen=True)
class Line:
    """One allocation to write: a short payment within `tolerance` settles it; beyond it, with
    `deduction` terms (a bank transaction's whole amount applied), its difference may be disputed."""

    invoice: Entity
    amount: int
    tolerance: Tolerance = NO_TOLERANCE
    deduction: DeductionTerms | None = None


def post_payment(
    uow: UnitOfWork,
    customer: Entity,
    *,
    reference: str,
    received_on: date,
    currency: str,
    amount: int,
    lines: list[Line],
    actor: Actor,
    now: datetime,
    today: date,
    cause: dict[str, Any] | None = None,
    landed: bool = True,
) -> Entity:
    """Record a payment and apply its lines, in the caller's unit of work; the rest is unapplied.
    `landed=False`: the caller re-evaluates holds and the risk score itself (once per customer of a
    whole statement, instead of once per payment)."""
    if uow.Payment.get(customer=customer, reference=reference) is not None:
        raise ValidationFailed(f"payment '{reference}' was already recorded for this customer", "reference")
    payment = uow.Payment(
        customer=customer,
        reference=reference,
        received_on=received_on,
        currency=check_currency(currency),
        amount=amount,
        created_at=stored(now),
    )
    uow.flush()
    why = {"kind": "payment", "payment_id": payment.id, "reference": reference, **(cause or {})}
    applied = sum(
        allocate(uow, payment, ln.invoice, ln.amount, actor, now, today, why, ln.tolerance, ln.deduction)
        for ln in lines
    )
    payment.unapplied_amount = amount - applied
    _credit(customer, payment, payment.unapplied_amount)
    uow.flush()
    emit(
        uow,
        type="o2c.payment.applied",
        entity_type="payment",
        entity_id=payment.id,
        entity_version=1,
        customer_id=customer.id,
        at=now,
        data={"snapshot": payment_snapshot(payment)},
    )
    if landed:
        money_landed(uow, customer, actor, now, today, why)
    return payment


def money_landed(
    uow: UnitOfWork, customer: Entity, actor: Actor, now: datetime, today: date, cause: dict[str, Any]
) -> None:
    """Cash landed (applied or not): automatic holds re-evaluate and the risk score follows."""
    clear_automatic_holds(uow, customer, actor, now, cause, today)
    score_customer(uow, customer.id, today, at=now)


def _credit(customer: Entity, payment: Entity, delta: int) -> None:
    """Unapplied credit lives on each payment in its currency; the customer's running total
    counts only its own currency, so different currencies are never added together."""
    if payment.currency == customer.currency:
        customer.unapplied_credit += delta


def payment_snapshot(payment: Entity) -> dict[str, Any]:
    return {
        "id": payment.id,
        "reference": payment.reference,
        "currency": payment.currency,
        "amount": format_minor(payment.amount, payment.currency),
        "unapplied": format_minor(payment.unapplied_amount, payment.currency),
        "allocations": [
            _allocation_snapshot(a, payment.currency) for a in payment.allocations.order_by(lambda a: a.id)
        ],
    }


def _allocation_snapshot(a: Entity, currency: str) -> dict[str, Any]:
    out = {"invoiceId": a.invoice.id, "amount": format_minor(a.amount, currency)}
    if a.short_paid:
        out["shortPaid"] = format_minor(a.short_paid, currency)
    return out


def check_received_on(ctx: Context, received_on: date) -> None:
    """Money not yet received is not a payment: a date after the business date (plus
    `O2C_PAYMENT_FUTURE_DAYS`, default 0, for banks that value-date ahead) is refused."""
    latest = ctx.today() + timedelta(days=ctx.settings.payment_future_days)
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
        lines = [
            Line(find_invoice(uow, customer, ln.invoice_id, ln.invoice_number), ln.amount) for ln in cmd.allocations
        ]
        payment = post_payment(
            uow,
            customer,
            reference=cmd.reference,
            received_on=cmd.received_on,
            currency=cmd.currency,
            amount=cmd.amount,
            lines=lines,
            actor=actor,
            now=ctx.now(),
            today=ctx.today(),
        )
        return PaymentView.of(payment)

    return transact(ctx.store, work)


def allocate(
    uow: UnitOfWork,
    payment: Entity,
    inv: Entity,
    wanted: int,
    actor: Actor,
    now: datetime,
    today: date,
    cause: dict[str, Any],
    tolerance: Tolerance = NO_TOLERANCE,
    deduction: DeductionTerms | None = None,
) -> int:
    """Apply up to `wanted` to the invoice; what exceeds its open amount stays unapplied. A short
    payment within `tolerance` settles the invoice and the difference is recorded as short-paid;
    beyond it, `deduction` terms may open a deduction dispute for the difference."""
    problem = allocation_problem(inv.number, inv.currency, inv.state, payment.currency)
    if problem:
        raise ValidationFailed(problem, "allocations")
    amount = allocation_take(wanted, inv.open_amount)
    if amount <= 0:
        return 0
    open_before = inv.open_amount
    short = short_payment(amount, open_before, tolerance) or 0
    uow.Allocation(payment=payment, invoice=inv, amount=amount, short_paid=short)
    inv.open_amount -= amount + short
    if settles(inv.open_amount):
        settle(
            uow,
            inv,
            actor,
            now,
            today,
            cause,
            "paid in full" if not short else "paid within the short-payment tolerance",
        )
    else:
        deducted = None
        if deduction is not None:
            deducted = open_deduction(
                uow, payment, inv, open_before, amount, tolerance, deduction, actor, now, today, cause
            )
        if deducted is None:  # a deduction's `dispute` transition already reports the new open amount
            record_amount_change(uow, inv, now, cause, "partial payment")
    return int(amount)


def settle(
    uow: UnitOfWork, inv: Entity, actor: Actor, now: datetime, today: date, cause: dict[str, object], why: str
) -> None:
    """The open amount reached zero: the invoice is paid; promises are kept, disputes withdrawn."""
    close_side_records(uow, inv, actor, now, cause, inv_states.PAID)
    fire_invoice(uow, inv, "pay", actor, now, today, reason=why, cause=cause)


def _undo_allocations(
    uow: UnitOfWork, payment: Entity, actor: Actor, now: datetime, today: date, why: str, cause: dict[str, Any]
) -> int:
    """Give every allocation back to its invoice (a paid invoice reopens); returns the money freed."""
    freed = 0
    for alloc in list(payment.allocations.order_by(lambda a: a.id)):
        inv = alloc.invoice
        inv.open_amount += alloc.amount + alloc.short_paid
        freed += alloc.amount
        withdraw_deductions(uow, payment, inv, actor, now, today, why, cause)
        if inv.state == inv_states.PAID:
            fire_invoice(uow, inv, "reopen", actor, now, today, reason=why, cause=cause)
        else:
            record_amount_change(uow, inv, now, cause, why)
        alloc.delete()
    return freed


def reverse_payment(ctx: Context, payment_id: int, reason: str, actor: Actor) -> PaymentView:
    """A bounced or recalled payment: its allocations return to the invoices; a paid invoice reopens;
    its unapplied credit is gone."""
    why = require_reason(reason)

    def work(uow: UnitOfWork) -> PaymentView:
        payment = get(uow, "Payment", payment_id)
        if payment.reversed_at is not None:
            raise ValidationFailed(f"payment {payment.reference} is already reversed", "payment_id")
        now, today = ctx.now(), ctx.today()
        cause = {"kind": "payment_reversal", "payment_id": payment.id}
        view = PaymentView.of(payment)  # as it stood: the caller re-evaluates the invoices it paid
        _undo_allocations(uow, payment, actor, now, today, why, cause)
        _credit(payment.customer, payment, -payment.unapplied_amount)
        payment.unapplied_amount = 0
        payment.reversed_at = stored(now)
        _payment_event(uow, payment, "o2c.payment.reversed", now, {"reason": why, "actor": str(actor)})
        return replace(view, reversed=True, unapplied_amount=0)

    return transact(ctx.store, work)


def unapply_payment(ctx: Context, payment_id: int, reason: str, actor: Actor) -> PaymentView:
    """Take a payment's allocations back (a wrong match): the invoices reopen and the money becomes
    unapplied credit again, ready for `applyCredit`."""
    why = require_reason(reason)

    def work(uow: UnitOfWork) -> PaymentView:
        payment = get(uow, "Payment", payment_id)
        if payment.reversed_at is not None:
            raise ValidationFailed(f"payment {payment.reference} is reversed", "payment_id")
        if payment.allocations.is_empty():
            raise ValidationFailed(f"payment {payment.reference} has no allocations to take back", "payment_id")
        now, today = ctx.now(), ctx.today()
        cause = {"kind": "payment_unapplied", "payment_id": payment.id}
        before = PaymentView.of(payment)
        freed = _undo_allocations(uow, payment, actor, now, today, why, cause)
        payment.unapplied_amount += freed
        _credit(payment.customer, payment, freed)
        _payment_event(uow, payment, "o2c.payment.unapplied", now, {"reason": why, "actor": str(actor)})
        for txn in payment.bank_transactions.filter(lambda t: t.state in bt.POSTED):
            fire_bank_transaction(uow, txn, "unapply", actor, now, reason=why)  # back to the queue
        return before

    return transact(ctx.store, work)


def apply_credit(ctx: Context, cmd: ApplyCredit, actor: Actor) -> list[PaymentView]:
    """Apply a customer's unapplied credit in `cmd.currency` to invoices: the named allocations, or
    with none named, oldest due first. Credit is taken from the oldest payments first."""
    currency = check_currency(cmd.currency)

    def work(uow: UnitOfWork) -> list[PaymentView]:
        customer = get(uow, "Customer", cmd.customer_id)
        touched = spread_credit(uow, customer, currency, cmd.allocations, actor, ctx.now(), ctx.today())
        if not touched:
            raise ValidationFailed("nothing to apply: the invoices named have nothing open", "allocations")
        return [PaymentView.of(p) for p in touched]

    return transact(ctx.store, work)


def apply_from(uow: UnitOfWork, payment: Entity, lines: list[Line], actor: Actor, now: datetime, today: date) -> None:
    """Allocate part of one payment's unapplied money (a bank transaction a person re-matches)."""
    if sum(ln.amount for ln in lines) > payment.unapplied_amount:
        raise ValidationFailed(
            f"allocations exceed the unapplied money of payment {payment.reference} "
            f"({format_minor(payment.unapplied_amount, payment.currency)})",
            "allocations",
        )
    cause = {"kind": "credit_applied", "payment_id": payment.id}
    for ln in lines:
        applied = allocate(uow, payment, ln.invoice, ln.amount, actor, now, today, cause, ln.tolerance, ln.deduction)
        payment.unapplied_amount -= applied
        _credit(payment.customer, payment, -applied)
    if lines:
        _payment_event(uow, payment, "o2c.payment.applied", now, {"creditApplied": True})
        money_landed(uow, payment.customer, actor, now, today, cause)


def spread_credit(
    uow: UnitOfWork,
    customer: Entity,
    currency: str,
    lines: tuple[AllocationLine, ...],
    actor: Actor,
    now: datetime,
    today: date,
) -> list[Entity]:
    """In the caller's unit of work: the customer's unapplied credit in `currency` to the invoices
    named (none named: oldest due first); returns the payments it was taken from."""
    sources = list(
        uow.Payment.select(
            lambda p: (
                p.customer == customer and p.currency == currency and p.unapplied_amount > 0 and p.reversed_at is None
            )
        ).order_by(lambda p: (p.received_on, p.id))
    )
    available = sum(p.unapplied_amount for p in sources)
    if available <= 0:
        raise ValidationFailed(f"customer {customer.external_ref} has no unapplied credit in {currency}", "currency")
    wanted = _credit_lines(uow, customer, currency, lines, available)
    touched: dict[int, Entity] = {}
    for inv, amount in wanted:
        left = amount
        for p in sources:
            if left <= 0 or inv.open_amount <= 0:
                break
            take = min(left, p.unapplied_amount)
            if take <= 0:
                continue
            cause = {"kind": "credit_applied", "payment_id": p.id}
            applied = allocate(uow, p, inv, take, actor, now, today, cause)
            p.unapplied_amount -= applied
            _credit(customer, p, -applied)
            left -= applied
            touched[p.id] = p
    for p in touched.values():
        _payment_event(uow, p, "o2c.payment.applied", now, {"creditApplied": True})
    if touched:
        money_landed(uow, customer, actor, now, today, {"kind": "credit_applied"})
    return list(touched.values())


def _credit_lines(
    uow: UnitOfWork, customer: Entity, currency: str, lines: tuple[AllocationLine, ...], available: int
) -> list[tuple[Entity, int]]:
    if lines:
        _check_lines(lines, available, "the unapplied credit")
        return [(find_invoice(uow, customer, ln.invoice_id, ln.invoice_number), ln.amount) for ln in lines]
    open_invoices = list(
        uow.Invoice.select(
            lambda i: (
                i.customer == customer
                and i.currency == currency
                and i.state in inv_states.COLLECTIBLE
                and i.open_amount > 0
            )
        )
    )
    by_id = {i.id: i for i in open_invoices}
    plan = oldest_due_first(available, [(i.id, i.due_date.isoformat(), i.open_amount) for i in open_invoices])
    if not plan:
        raise ValidationFailed(f"customer {customer.external_ref} has no open invoice in {currency}", "allocations")
    return [(by_id[inv_id], amount) for inv_id, amount in plan]


def _payment_event(uow: UnitOfWork, payment: Entity, type: str, now: datetime, extra: dict[str, Any]) -> None:
    version = _next_payment_version(uow, payment.id)
    emit(
        uow,
        type=type,
        entity_type="payment",
        entity_id=payment.id,
        entity_version=version,
        customer_id=payment.customer.id,
        at=now,
        data={**extra, "snapshot": payment_snapshot(payment)},
    )


def _next_payment_version(uow: UnitOfWork, payment_id: int) -> int:
    """A payment has no version column; its events count up from 1 (`o2c.payment.applied`)."""
    uow.flush()
    rows = uow.select(
        "SELECT MAX(entity_version) FROM outbox WHERE entity_type = 'payment' AND entity_id = $pid", {"pid": payment_id}
    )
    return int(rows[0] or 0) + 1 if rows else 1
