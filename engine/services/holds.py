"""Credit holds: every reason that holds an account is a row; the account is on hold while any
reason is active. Automatic reasons clear themselves; a manual one needs a person and a code."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from engine.clock import stored
from engine.commands import PlaceHold, ReleaseHold
from engine.policy.credit import credit_policy
from engine.services.common import fire_account, get
from engine.services.context import Context
from engine.store.database import Store
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.views import CustomerView, HoldView
from states import account as acc
from states import holds as hold_rules
from states import invoice as inv_states
from states.actors import Actor
from states.errors import NotFound, ValidationFailed


def active_holds(customer: Entity) -> list[Entity]:
    return sorted((h for h in customer.holds if h.released_at is None), key=lambda h: h.id)


def place(
    uow: UnitOfWork,
    customer: Entity,
    reason: str,
    actor: Actor,
    at: datetime,
    note: str | None = None,
    cause: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
) -> Entity | None:
    """Add a hold reason; returns the new hold, or None when that reason already holds."""
    if reason not in acc.HOLD_REASONS:
        raise ValidationFailed(f"unknown hold reason '{reason}'; one of {', '.join(acc.HOLD_REASONS)}", "reason")
    if reason == acc.MANUAL and not actor.is_person:
        raise ValidationFailed("a manual hold is placed by a person", "reason")
    if any(h.reason == reason for h in active_holds(customer)):
        return None
    fire_account(uow, customer, "place_hold", actor, at, hold_reason=reason, reason=note, cause=cause, facts=facts)
    hold = uow.CreditHold(customer=customer, reason=reason, note=note, placed_at=stored(at), placed_by=str(actor))
    return hold


def release(
    uow: UnitOfWork,
    customer: Entity,
    reason: str,
    actor: Actor,
    at: datetime,
    reason_code: str | None = None,
    note: str | None = None,
    cause: dict[str, Any] | None = None,
) -> Entity:
    holds = active_holds(customer)
    hold = next((h for h in holds if h.reason == reason), None)
    if hold is None:
        raise NotFound(f"customer {customer.id} has no active '{reason}' hold")
    remaining = len(holds) - 1
    fire_account(
        uow,
        customer,
        "release_hold",
        actor,
        at,
        hold_reason=reason,
        reason=note or reason_code,
        cause=cause,
        remaining=remaining,
        actor_kind=actor.kind,
        reason_code=reason_code,
        facts={"hold_reason": reason, "remaining_reasons": [h.reason for h in holds if h is not hold]},
    )
    hold.released_at = stored(at)
    hold.released_by = str(actor)
    hold.release_reason_code = reason_code
    return hold


def open_items(customer: Entity) -> list[hold_rules.OpenItem]:
    """The customer's collectible invoices as the hold rules (`states/holds.py`) see them."""
    return [
        hold_rules.OpenItem(i.state, i.open_amount, i.currency, i.due_date)
        for i in customer.invoices
        if i.state in inv_states.COLLECTIBLE
    ]


def clear_automatic_holds(
    uow: UnitOfWork,
    customer: Entity,
    actor: Actor,
    at: datetime,
    cause: dict[str, Any],
    today: date | None = None,
) -> list[str]:
    """Release automatic reasons whose condition has cleared (after a payment or credit note).
    `today` is the business date; without it, the date of `at`."""
    active = [h.reason for h in active_holds(customer) if h.reason in hold_rules.SELF_CLEARING]
    if not active:
        return []
    day = today or at.date()
    cleared = hold_rules.cleared_reasons(active, open_items(customer), customer.currency, customer.credit_limit, day)
    for reason in cleared:
        release(uow, customer, reason, actor, at, reason_code="condition_cleared", cause=cause)
    return cleared


def place_hold(ctx: Context, cmd: PlaceHold, actor: Actor) -> HoldView:
    def work(uow: UnitOfWork) -> HoldView:
        customer = get(uow, "Customer", cmd.customer_id)
        hold = place(uow, customer, cmd.reason, actor, ctx.now(), note=cmd.note)
        if hold is None:
            raise ValidationFailed(f"customer {customer.id} is already on '{cmd.reason}' hold", "reason")
        uow.flush()
        return HoldView.of(hold)

    return transact(ctx.store, work)


def release_hold(ctx: Context, cmd: ReleaseHold, actor: Actor) -> CustomerView:
    until = _exception_until(ctx, cmd, actor)

    def work(uow: UnitOfWork) -> CustomerView:
        customer = get(uow, "Customer", cmd.customer_id)
        hold = release(uow, customer, cmd.reason, actor, ctx.now(), reason_code=cmd.reason_code, note=cmd.note)
        hold.exception_until = until
        return CustomerView.of(customer)

    return transact(ctx.store, work)


def _exception_until(ctx: Context, cmd: ReleaseHold, actor: Actor) -> date | None:
    """A person releasing an automatic reason makes an exception the cycle respects until a date
    (policy/credit.yaml: the default and the longest); none for a manual reason or a rule."""
    if not actor.is_person or cmd.reason not in acc.AUTOMATIC_REASONS:
        if cmd.exception_until is not None:
            raise ValidationFailed("only a person's release of an automatic reason makes an exception", "until")
        return None
    policy, today = credit_policy(ctx.settings.policy_dir), ctx.today()
    until = cmd.exception_until or today + timedelta(days=policy.hold_release_exception_days)
    if not today < until <= today + timedelta(days=policy.max_exception_days):
        raise ValidationFailed(
            f"an exception ends after today and within {policy.max_exception_days} days", "exception_until"
        )
    return until


def excepted_reasons(store: Store, as_of: date, customers: str = "1 = 1") -> set[tuple[int, str]]:
    """(customer, reason) pairs a person's release keeps off until a date on or after `as_of`
    (`customers`: a condition on the column `customer`)."""
    day = f"DATE '{as_of.isoformat()}'" if store.is_postgres else f"'{as_of.isoformat()}'"
    with read_only(store) as uow:
        found = uow.select(
            f"SELECT customer, reason FROM credit_hold WHERE exception_until IS NOT NULL AND exception_until >= {day}"
            f" AND {customers}"
        )
    return {(int(c), str(r)) for c, r in found}
