"""The cycle of one business date for a set of customers (everyone, or one partition): load the
facts once, plan with the vectorized evaluator, write chunk by chunk, then the account rules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from engine import crash
from engine.cycle import portfolio as pf
from engine.cycle.accounts import AccountWrite, write_accounts
from engine.cycle.book import EVERYONE, Book, Customers, load_book
from engine.cycle.facts import Accounts
from engine.cycle.planner import Plan, plan_accounts, plan_invoices, rule_cause
from engine.cycle.writer import write_chunk
from engine.rules.decision import shown_facts
from engine.rules.registry import StrategySet
from engine.services.context import Context
from engine.services.holds import excepted_reasons
from engine.store.tuning import data_version
from engine.tracing import span
from states.actors import Actor

CYCLE_ACTOR = Actor("rule", "cycle")
Progress = Callable[[int, int], None]


@dataclass
class CycleReport:
    business_date: str
    dry_run: bool
    already_done: bool = False
    invoices_evaluated: int = 0
    applied: int = 0
    notices: int = 0
    tasks: int = 0
    holds_placed: int = 0
    holds_released: int = 0
    conflicts: int = 0
    refused: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    partitions_worked: int = 0  # partitions of the date this call worked
    pending_partitions: int = 0  # partitions other workers were still working when it returned

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_scope(
    ctx: Context,
    strategies: StrategySet,
    as_of: date,
    customers: Customers,
    report: CycleReport,
    by_rule: Counter[str],
    dry_run: bool = False,
    chunk_size: int = 5000,
    progress: Progress | None = None,
    after_chunk: Callable[[int], None] | None = None,
    stopped: Callable[[], bool] | None = None,
    partition_id: int | None = None,
) -> None:
    """The cycle of `as_of` for the invoices and accounts of `customers` (everyone, or one
    partition): load once, plan, write chunk by chunk; conflicts are re-planned on fresh facts.
    `stopped` is asked between chunks: once true (a partition's lease was lost) nothing more is
    written; what was written stays, and the next holder loads only what is left. With
    `partition_id`, every write adds its counts to that partition's row in its own transaction."""
    attributes = {"o2c.business_date": as_of.isoformat(), "o2c.partition": partition_id or 0, "o2c.dry_run": dry_run}
    with span("o2c.cycle", attributes):
        loaded_at = data_version(ctx.store)  # before the load: a commit during it counts as later
        book = load_book(ctx.store, as_of, customers)
        accounts_at_load = book.accounts
        report.invoices_evaluated += len(book.portfolio)
        conflicted = False
        for _attempt in range(3):
            plan = _plan(ctx, strategies, as_of, book, customers)
            report.refused += plan.refused
            if dry_run:
                _count(report, plan.invoices, by_rule)
                break
            conflicts = _write(
                ctx, plan, as_of, chunk_size, progress, after_chunk, report, by_rule, stopped, partition_id
            )
            report.conflicts += len(conflicts)
            if stopped is not None and stopped():
                return
            if not conflicts:
                break
            conflicted = True
            stale = set(conflicts)
            owners = sorted({p.customer_id for p in plan.invoices if p.invoice_id in stale})
            book = load_book(ctx.store, as_of, Customers(ids=tuple(owners)), conflicts)
        # Account rules see the accounts as they are now, after the invoice transitions of the day. The
        # cycle's own transitions (mark_overdue, dun, escalate) change no aggregate (collectible, not
        # disputed, same amounts), so the accounts of the load are still exact unless someone else
        # committed since: on SQLite `data_version` tells; otherwise they are read again.
        fresh = not conflicted and loaded_at is not None and data_version(ctx.store) == loaded_at
        accounts = plan_accounts_only(ctx, strategies, as_of, customers, accounts_at_load if fresh else None)
        if stopped is not None and stopped():
            return
        by_rule.update(accounts.by_rule)
        # A dry run decides the account orders exactly as the real run (no-ops included) and writes nothing.
        _apply_accounts(ctx, accounts, report, dry_run, partition_id)
        if not dry_run:
            crash.reached("cycle.accounts_written")


def _plan(ctx: Context, strategies: StrategySet, as_of: date, book: Book, customers: Customers) -> Plan:
    per_days = {
        c.strategy.settings.contact_cap.per_days for c in strategies.strategies if c.strategy.settings.contact_cap
    }
    recent = pf.recent_notice_windows(ctx.store, as_of, per_days, customers.where("customer"))
    today = pf.messages_of(ctx.store, as_of, customers.where("customer"))
    plan = Plan()
    plan_invoices(book.portfolio, book.accounts, strategies, recent, plan, today=today)
    return plan


def plan_accounts_only(
    ctx: Context,
    strategies: StrategySet,
    as_of: date,
    customers: Customers = EVERYONE,
    accounts: Accounts | None = None,
) -> Plan:
    """Account rules see the accounts after the invoice transitions of the day were applied
    (`accounts`: still exact, else they are loaded)."""
    plan = Plan()
    if accounts is None:
        accounts = load_book(ctx.store, as_of, customers, accounts_only=True).accounts
    plan_accounts(accounts, strategies, as_of, plan)
    if any(o.kind == "credit_hold" for o in plan.accounts):
        # a person released that reason with an exception that still runs: not placed again
        excepted = excepted_reasons(ctx.store, as_of, customers.where("customer"))
        plan.accounts = [o for o in plan.accounts if (o.customer_id, o.reason) not in excepted]
    return plan


def _count(report: CycleReport, plans: list[Any], by_rule: Counter[str] | None = None) -> None:
    for p in plans:
        report.applied += len(p.changes)
        report.notices += p.notice is not None
        report.tasks += len(p.tasks) if p.opened is None else p.opened
        if by_rule is not None:
            by_rule.update(p.rules)


def _write(
    ctx: Context,
    plan: Plan,
    as_of: date,
    chunk_size: int,
    progress: Progress | None,
    after_chunk: Callable[[int], None] | None,
    report: CycleReport,
    by_rule: Counter[str],
    stopped: Callable[[], bool] | None = None,
    partition_id: int | None = None,
) -> list[int]:
    """Write the plans chunk by chunk; count what was written (rules included); return the
    conflicts. Invoices another writer handled meanwhile are neither counted nor conflicts."""
    conflicts: list[int] = []
    total = len(plan.invoices)
    # In invoice id order: a chunk then touches neighbouring rows and pages (ids follow issue order),
    # not a scatter over the whole table (profiled: the commits of scattered chunks cost 5 s at 1M).
    ordered = sorted(plan.invoices, key=lambda p: p.invoice_id)
    for start in range(0, total, chunk_size):
        chunk = ordered[start : start + chunk_size]
        if stopped is not None and stopped():
            break
        with span("o2c.cycle.chunk", {"o2c.business_date": as_of.isoformat(), "o2c.invoices": len(chunk)}):
            outcome = write_chunk(ctx.store, chunk, as_of, ctx.now(), str(CYCLE_ACTOR), partition_id)
        conflicts.extend(outcome.conflicts)
        _count(report, outcome.written, by_rule)
        if progress:
            progress(min(start + chunk_size, total), total)
        if after_chunk:
            after_chunk(start // chunk_size)
        crash.reached("cycle.chunk_written")
    return conflicts


def _apply_accounts(
    ctx: Context, plan: Plan, report: CycleReport, dry_run: bool = False, partition_id: int | None = None
) -> None:
    """Set-based (see `engine.cycle.accounts`): the same decisions as `holds.place` / `holds.release`,
    taken on the customer's state and holds re-read inside the writing transaction."""
    orders = [
        AccountWrite(
            order.customer_id,
            order.kind,
            order.reason,
            rule_cause(order.decision),
            shown_facts(order.decision.facts),
            order.decision.rule_description or None,
        )
        for order in sorted(plan.accounts, key=lambda o: o.customer_id)  # stable: a customer's orders keep their order
    ]
    outcome = write_accounts(ctx.store, orders, ctx.now(), CYCLE_ACTOR, dry_run=dry_run, partition_id=partition_id)
    report.refused += outcome.refused
    report.holds_placed += outcome.placed
    report.holds_released += outcome.released
    report.applied += outcome.placed + outcome.released
