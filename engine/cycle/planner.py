"""Turn facts into plans: per strategy, `open` invoices past grace become `overdue`, then the
vectorized evaluator decides; every transition is checked by the invoice machine itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cycle.facts import Accounts, account_facts, invoice_facts
from engine.cycle.portfolio import Portfolio
from engine.cycle.writer import Change, InvoicePlan, NoticeRow, TaskRow
from engine.rules.compiler import CompiledStrategy
from engine.rules.decision import Decision, shown_facts
from engine.rules.experiment import arms_of
from engine.rules.numpy_eval import evaluate
from engine.rules.registry import StrategySet
from states import invoice as inv_states
from states.block import WITHHELD_ACTIONS
from states.errors import InvalidTransition
from states.invoice import INVOICE


@dataclass
class AccountOrder:
    customer_id: int
    kind: str  # credit_hold | release_hold
    reason: str
    decision: Decision


@dataclass
class Plan:
    invoices: list[InvoicePlan] = field(default_factory=list)
    accounts: list[AccountOrder] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    refused: int = 0  # orders the machine refused (should stay 0; counted, never applied)


@dataclass
class Budget:
    """The contact cap within one evaluation: messages left per customer, messages already planned,
    and the messages of the date written before it (`today`: see `portfolio.messages_of`) — they
    use up the cap as planned ones do, so a run resumed after a kill decides as an unbroken one."""

    left: dict[int, int] = field(default_factory=dict)
    opened: set[tuple[int, str, int]] = field(default_factory=set)
    today: Mapping[int, tuple[tuple[str, int], ...]] = field(default_factory=dict)

    def written(self, customer_id: int) -> tuple[tuple[str, int], ...]:
        return self.today.get(customer_id, ())


# One cause per rule (of one strategy version): the same dict for every decision of that rule, so
# that the writer encodes it once. Callers never mutate it (they build `cause | {...}`).
_CAUSES: dict[tuple[str, int, str, str, str, str, str, str], dict[str, Any]] = {}


def rule_cause(d: Decision) -> dict[str, Any]:
    key = (d.strategy, d.version, d.content_hash, d.rule_id, d.track, d.evaluator, d.experiment, d.variant)
    found = _CAUSES.get(key)
    if found is None:
        found = _CAUSES[key] = {
            "kind": "rule",
            "strategy": d.strategy,
            "version": d.version,
            "content_hash": d.content_hash,
            "rule": d.rule_id,
            "track": d.track,
            "evaluator": d.evaluator,
        }
        if d.experiment:  # champion/challenger: the customer's arm decided
            found |= {"experiment": d.experiment, "variant": d.variant}
    if d.predicted:  # the values differ per invoice: not cached
        return found | {"prediction": d.prediction}
    return found


# Decides one strategy group: given the compiled strategy and its fact arrays, returns which rows
# some rule fired for, and a function from such a row to its explained decisions. The daily cycle
# decides with numpy; single events (a payment, a broken promise) with durable-rules.
RowDecisions = Callable[[int], list[Decision]]
GroupDecider = Callable[[CompiledStrategy, dict[str, Any]], tuple[npt.NDArray[np.bool_], RowDecisions]]


def numpy_decider(compiled: CompiledStrategy, facts: dict[str, Any]) -> tuple[npt.NDArray[np.bool_], RowDecisions]:
    """The vectorized evaluator's decisions: `VectorResult.decider`, the very code the
    differential tests prove equal to durable-rules."""
    result = evaluate(compiled, facts, "invoice")
    acted = result.acted()
    return acted, result.decider(acted)


def plan_invoices(
    p: Portfolio,
    acc: Accounts,
    strategies: StrategySet,
    recent: dict[int, dict[int, int]],
    plan: Plan,
    decider: GroupDecider = numpy_decider,
    today: Mapping[int, tuple[tuple[str, int], ...]] | None = None,
) -> None:
    """`recent[per_days][customer_id]`: messages of the dates before in the strategy's contact
    window (the `recent_notices` fact); `today`: the date's messages already written (see `Budget`)."""
    if len(p) == 0:
        return
    pairs = np.char.add(np.char.add(p.segment, "|"), p.risk)
    for pair in np.unique(pairs):
        segment, risk = str(pair).split("|")
        group = p.take(pairs == pair)
        for arm, rows in arms_of(strategies.route(segment, risk), group.customer_id):
            _plan_group(group.take(rows), acc, arm, recent, plan, decider, today or {})


def _recent_for(compiled: CompiledStrategy, customer_ids: Any, recent: dict[int, dict[int, int]]) -> Any:
    cap = compiled.strategy.settings.contact_cap
    counts = recent.get(cap.per_days, {}) if cap else {}
    return np.asarray([counts.get(int(c), 0) for c in customer_ids], dtype=np.int64)


def _plan_group(
    g: Portfolio,
    acc: Accounts,
    compiled: CompiledStrategy,
    recent: dict[int, dict[int, int]],
    plan: Plan,
    decider: GroupDecider,
    today: Mapping[int, tuple[tuple[str, int], ...]],
) -> None:
    settings = compiled.strategy.settings
    dpd = g.today - g.due_day
    becomes_overdue = (g.state == inv_states.OPEN) & (dpd >= max(settings.grace_days, 1))
    g.state = np.where(becomes_overdue, inv_states.OVERDUE, g.state)
    sent = _recent_for(compiled, g.customer_id, recent)
    acted, decisions_of = decider(compiled, invoice_facts(g, acc, sent))
    cap = settings.contact_cap
    budget = Budget(today=today)
    per_invoice = settings.consolidate == "per_invoice"
    for row in np.nonzero(acted | becomes_overdue)[0].tolist():
        decisions = decisions_of(row) if acted[row] else []
        inv = _plan_for(g, row)
        if becomes_overdue[row]:
            _change(
                inv,
                "mark_overdue",
                {
                    "kind": "cycle",
                    "rule": "grace_days",
                    "strategy": compiled.name,
                    "grace_days": settings.grace_days,
                },
                {"days_past_due": int(dpd[row])},
                plan,
                f"{settings.grace_days} grace days passed",
            )
        for d in decisions:
            _apply_decision(g, row, inv, d, plan, cap.max if cap else None, budget, sent, per_invoice)
        if inv.changes or inv.notice or inv.tasks:
            plan.invoices.append(inv)


def _plan_for(g: Portfolio, row: int) -> InvoicePlan:
    inv = InvoicePlan(int(g.invoice_id[row]), int(g.customer_id[row]), int(g.version[row]))
    inv.final_state, inv.final_level = str(g.state[row]), int(g.dunning_level[row])
    # the planned state above may be `overdue` already; the stored one is what `from` must show
    inv.snapshot = {"id": inv.invoice_id, "customerId": inv.customer_id, "currency": str(g.currency[row])}
    return inv


def _change(
    inv: InvoicePlan,
    trigger: str,
    cause: dict[str, Any],
    facts: dict[str, Any],
    plan: Plan,
    reason: str | None = None,
    **context: Any,
) -> bool:
    """Fire the trigger on a light copy through the invoice machine; record it if allowed."""
    state = inv.changes[-1].to_state if inv.changes else _stored_state(inv, trigger)
    fired = _fire(state, inv.final_level, trigger, tuple(sorted(context.items())))
    if fired is None:
        plan.refused += 1
        return False
    before, after, level = fired
    inv.changes.append(
        Change(
            inv.invoice_id,
            inv.customer_id,
            before,
            after,
            trigger,
            level,
            cause,
            facts,
            reason,
        )
    )
    inv.final_state, inv.final_level = after, level
    return True


# The invoice machine's answer depends only on (state, level, trigger, context): ask it once per
# distinct question (a portfolio asks a few dozen distinct questions, thousands of times).
_FIRED: dict[tuple[Any, ...], tuple[str, str, int] | None] = {}


def _fire(state: str, level: int, trigger: str, context: tuple[tuple[str, Any], ...]) -> tuple[str, str, int] | None:
    key = (state, level, trigger, context)
    if key not in _FIRED:
        subject = SimpleNamespace(state=state, dunning_level=level, open_amount=1)
        try:
            before, after = INVOICE.fire(subject, trigger, "", past_due=True, **dict(context))
            _FIRED[key] = (before, after, int(subject.dunning_level))
        except InvalidTransition:
            _FIRED[key] = None
    return _FIRED[key]


def _stored_state(inv: InvoicePlan, trigger: str) -> str:
    # Before any change the planned state equals the stored state, except that `mark_overdue`
    # is always the first change of a row and starts from `open`.
    return inv_states.OPEN if trigger == "mark_overdue" else inv.final_state


def _apply_decision(
    g: Portfolio,
    row: int,
    inv: InvoicePlan,
    d: Decision,
    plan: Plan,
    cap: int | None,
    budget: Budget,
    sent: Any,
    per_invoice: bool = False,
) -> None:
    cause, facts = rule_cause(d), shown_facts(d.facts)
    blocked = bool(g.blocked[row])
    for order in d.orders:
        if blocked and order.kind in WITHHELD_ACTIONS:
            continue  # a dunning block is in force: no reminder, notice or escalation
        if order.kind in ("remind", "dun"):
            if inv.notice is not None:
                continue  # at most one notice per invoice per evaluation
            channel = order.params.get("channel", "email")
            # the contact cap counts messages: an invoice joining a message already planned is free
            message = (inv.customer_id, channel, inv.invoice_id if per_invoice else 0)
            written = budget.written(inv.customer_id)
            joins = message in budget.opened or message[1:] in written
            if cap is not None and not joins:
                left = budget.left.setdefault(inv.customer_id, cap - int(sent[row]) - len(written))
                if left <= 0:
                    continue  # the contact cap: this customer heard from us enough
            level = inv.final_level
            if order.kind == "dun":
                if not _change(
                    inv,
                    "dun",
                    cause,
                    facts,
                    plan,
                    d.rule_description or None,
                    level=order.target_level,
                    max_level=order.max_level,
                ):
                    continue
                level = inv.final_level
            if not joins:
                budget.opened.add(message)
                if cap is not None:
                    budget.left[inv.customer_id] -= 1
            inv.notice = NoticeRow(
                inv.invoice_id,
                inv.customer_id,
                order.kind,
                channel,
                order.params.get("template", order.kind),
                None,  # chosen from the customer's contacts when the message is rendered
                level,
                d.rule_id,
                d.strategy,
                cause,
                per_invoice,
            )
        elif order.kind == "escalate":
            to = order.params.get("to", "collector")
            if _change(inv, "escalate", cause | {"to": to}, facts, plan, f"escalated to {to}"):
                inv.tasks.append(
                    TaskRow(inv.invoice_id, inv.customer_id, to, f"escalated to {to}", d.rule_id, "escalation", cause)
                )
        elif order.kind == "create_task":
            inv.tasks.append(
                TaskRow(
                    inv.invoice_id,
                    inv.customer_id,
                    order.params.get("queue", "collections"),
                    order.params.get("note"),
                    d.rule_id,
                    "rule",
                    cause,
                )
            )
        else:
            continue
        key = f"{d.strategy}/{d.rule_id}"
        plan.by_rule[key] += 1
        inv.rules.append(key)


def plan_accounts(acc: Accounts, strategies: StrategySet, as_of: date, plan: Plan) -> None:
    if acc.customer_id.size == 0:
        return
    pairs = np.char.add(np.char.add(acc.segment, "|"), acc.risk)
    for pair in np.unique(pairs):
        segment, risk = str(pair).split("|")
        in_pair = np.nonzero(pairs == pair)[0].astype(np.int64)
        for compiled, mask in arms_of(strategies.route(segment, risk), acc.customer_id[in_pair]):
            if compiled.scoped("account"):
                _plan_account_rows(acc, compiled, in_pair[mask], as_of, plan)


def _plan_account_rows(acc: Accounts, compiled: CompiledStrategy, rows: Any, as_of: date, plan: Plan) -> None:
    """The account rules of one strategy (or one arm of its experiment) for account rows `rows`."""
    result = evaluate(compiled, account_facts(acc, rows, np.zeros(rows.size, dtype=np.int64)), "account")
    acted = result.acted()
    decisions_of = result.decider(acted)
    for k in np.nonzero(acted)[0].tolist():
        for d in decisions_of(k):
            for order in d.orders:
                if order.kind in ("credit_hold", "release_hold"):
                    cid = int(acc.customer_id[rows[k]])
                    plan.accounts.append(AccountOrder(cid, order.kind, order.params.get("reason", "overdue"), d))
                    plan.by_rule[f"{d.strategy}/{d.rule_id}"] += 1
