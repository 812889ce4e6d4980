"""A dunning step taken by a person (`transitionInvoice` with `dun`): the invoice moves one level up
and its notice is requested exactly as a rule's `dun` does it, because it is the rule's code that
does it. The daily cycle's planner picks the step from the routed strategy's ladder (its `dun` rules,
in file order) on the invoice's facts of today, and the cycle's writer writes the transition, the
notice row and its message (joining the customer's message of the date and channel still
`requested`), their history and events. What is the person's own: the actor, the reason, a cause
that names them with the ladder step taken, and the wait — the spacing between notices, the
business-day condition and the contact cap are theirs to overrule; one notice per invoice per
business date is not (docs/notices.md, "A dunning step by hand")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from engine.cycle import portfolio as pf
from engine.cycle.book import Customers, load_book
from engine.cycle.planner import GroupDecider, Plan, RowDecisions, numpy_decider, plan_invoices
from engine.cycle.writer import InvoicePlan, write_chunk
from engine.rules import ir
from engine.rules.compiler import CompiledStrategy
from engine.rules.registry import StrategySet
from engine.services.common import get
from engine.services.context import Context
from engine.store.unit_of_work import read_only
from states.actors import Actor
from states.errors import Conflict, ValidationFailed
from states.invoice import INVOICE

# The facts that say when a step is due; a person decides that, so they are evaluated as satisfied.
WAIVED: Mapping[str, Any] = {"days_since_last_notice": pf.NEVER_NOTICED, "business_day": True, "recent_notices": 0}


def ladder(compiled: CompiledStrategy) -> CompiledStrategy:
    """The strategy's dunning ladder: the strategy itself with every rule that does not `dun` switched
    off (each experiment arm's too), so that its `dun` rules decide in file order and the decision
    shows the facts the whole strategy sees, as the rule's would."""
    rules = tuple(
        r if any(a.kind == "dun" for a in r.actions) else replace(r, cond=ir.And((ir.FALSE, r.cond)))
        for r in compiled.rules
    )
    return replace(compiled, rules=rules, arms=tuple(ladder(arm) for arm in compiled.arms))


def ladders(strategies: StrategySet) -> StrategySet:
    return StrategySet(tuple(ladder(c) for c in strategies.strategies), strategies.directory, strategies.loaded_at)


def _waived(decider: GroupDecider, seen: Mapping[str, Any]) -> GroupDecider:
    """Decide with the `WAIVED` facts satisfied; the decisions show the facts as they are (`seen`)."""

    def decide(compiled: CompiledStrategy, facts: dict[str, Any]) -> tuple[Any, RowDecisions]:
        size = len(next(iter(facts.values())))
        waived = {name: np.full(size, value) for name, value in WAIVED.items()}
        acted, decisions_of = decider(compiled, facts | waived)

        def decisions(row: int) -> list[Any]:
            return [
                replace(d, facts={**d.facts, **{n: seen[n] for n in WAIVED if n in d.facts}}) for d in decisions_of(row)
            ]

        return acted, decisions

    return decide


def dun_by_hand(ctx: Context, invoice_id: int, actor: Actor, reason: str) -> None:
    """Take the invoice's next ladder step now, for `actor`, or raise and write nothing."""
    day, now = ctx.today(), ctx.now()
    with read_only(ctx.store) as uow:
        inv = get(uow, "Invoice", invoice_id)
        customer = inv.customer
        level = int(inv.dunning_level)
        subject = SimpleNamespace(state=inv.state, dunning_level=level, open_amount=inv.open_amount)
        past_due, noticed_today = day > inv.due_date, inv.last_notice_on == day
        segment, risk, customer_id = customer.segment, customer.risk_class, customer.id
    strategies = ctx.strategies()
    compiled = strategies.route(segment, risk)
    settings = compiled.strategy.settings
    # the machine's word, with the strategy's ceiling: disputed, promised, escalated, final or at the
    # top of the ladder -> INVALID_TRANSITION, as for any transition by hand
    INVOICE.fire(subject, "dun", invoice_id, past_due=past_due, max_level=settings.max_dunning_level)
    if noticed_today:
        raise ValidationFailed(
            f"invoice {invoice_id} already had a notice on {day.isoformat()}: one notice per invoice per day",
            "trigger",
        )
    book = load_book(ctx.store, day, Customers(ids=(customer_id,)), [invoice_id], handled_too=True)
    p = book.portfolio
    if bool(p.blocked[0]):
        raise ValidationFailed(f"a dunning block is in force for invoice {invoice_id}: lift it first", "trigger")
    cap = settings.contact_cap
    seen = {
        "days_since_last_notice": int(pf.NEVER_NOTICED if p.last_notice_day[0] < 0 else p.today - p.last_notice_day[0]),
        "business_day": day.weekday() < 5,
        "recent_notices": pf.recent_notice_counts(ctx.store, day, cap.per_days).get(customer_id, 0) if cap else 0,
    }
    plan = Plan()
    plan_invoices(p, book.accounts, ladders(strategies), {}, plan, _waived(numpy_decider, seen))
    step = next((i for i in plan.invoices if i.notice is not None and i.changes), None)
    if step is None:
        raise ValidationFailed(
            f"no step of the ladder of strategy '{compiled.name}' applies to invoice {invoice_id} at level "
            f"{level} (its amount, currency or credit on account)",
            "trigger",
        )
    _as_the_persons(step, actor, reason)
    if write_chunk(ctx.store, [step], day, now, str(actor), by_hand=True).conflicts:
        raise Conflict(f"invoice {invoice_id} changed while its notice was requested; try again")


def _as_the_persons(step: InvoicePlan, actor: Actor, reason: str) -> None:
    """The person caused it, with their reason; the cause keeps the ladder step taken (`step`)."""
    assert step.notice is not None
    cause = {**actor.cause(), "step": step.notice.cause}
    for change in step.changes:
        change.cause, change.reason = cause, reason
    step.notice.cause = cause
