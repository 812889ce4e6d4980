"""Deductions: a short payment that cash application applies can leave a difference the customer
withheld on purpose (a price, a damaged item, a promotion). Where `policy/disputes.yaml`'s
`deductions` says so, that difference is opened as a `deduction` dispute on the invoice, in the
same unit of work as the allocation; taking the payment back withdraws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.policy.disputes import DisputePolicy
from engine.services.dispute_steps import has_active_dispute, start_dispute, withdraw_dispute
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork
from states import dispute as dsp
from states.actors import Actor
from states.cash import DeductionRule, Tolerance, deduction
from states.invoice import INVOICE
from states.money import format_minor

REASON = "deduction"


@dataclass(frozen=True)
class DeductionTerms:
    """What a payment line needs to dispute its difference: when (the rule), the SLA and the owner."""

    rule: DeductionRule
    sla_days: int
    owner: str


def deduction_terms(policy: DisputePolicy, segment: str, currency: str) -> DeductionTerms | None:
    """The terms for a customer of `segment` paying in `currency`; None when its short payments
    are never deductions."""
    rule = policy.deduction_rule(segment, currency)
    if rule is None:
        return None
    return DeductionTerms(rule, policy.sla_days(REASON, segment), policy.deduction_owner(segment))


def open_deduction(
    uow: UnitOfWork,
    payment: Entity,
    inv: Entity,
    open_before: int,
    applied: int,
    tolerance: Tolerance,
    terms: DeductionTerms,
    actor: Actor,
    now: datetime,
    today: date,
    cause: dict[str, Any],
) -> Entity | None:
    """After `applied` of `payment` went to the invoice (open `open_before` before it): open a
    deduction dispute for the difference when the terms take it. Never a second active dispute on
    one invoice (one already open covers what the customer withheld), never on an invoice that may
    not be disputed. Returns the dispute, or None."""
    difference = deduction(applied, open_before, tolerance, terms.rule)
    if not difference or difference != inv.open_amount or has_active_dispute(inv):
        return None
    if "dispute" not in INVOICE.triggers_from(inv.state):
        return None
    currency = inv.currency
    description = (
        f"short payment {payment.reference}: {format_minor(applied, currency)} {currency} applied of "
        f"{format_minor(open_before, currency)} {currency} open; the difference "
        f"{format_minor(difference, currency)} {currency} is disputed on the customer's behalf"
    )
    return start_dispute(
        uow,
        inv,
        REASON,
        difference,
        description,
        actor,
        now,
        today,
        sla_days=terms.sla_days,
        owner=terms.owner,
        cause={**cause, "kind": "short_payment"},
        payment=payment,
    )


def withdraw_deductions(
    uow: UnitOfWork,
    payment: Entity,
    inv: Entity,
    actor: Actor,
    now: datetime,
    today: date,
    why: str,
    cause: dict[str, Any],
) -> None:
    """The payment's money leaves the invoice (reversed, unapplied): the difference it left is no
    longer a deduction, so its active deduction dispute is withdrawn and the invoice resumes."""
    for d in list(payment.deductions.filter(lambda d: d.invoice == inv and d.state in dsp.ACTIVE)):
        withdraw_dispute(uow, d, actor, now, today, f"the short payment was taken back: {why}", cause)
