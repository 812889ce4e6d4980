"""Re-evaluate single invoices at once when something happens between cycles (a payment, a
resolved dispute, a broken promise), through the durable-rules path. Same planner, same guards,
same writer as the daily cycle; the business-date marker keeps it to one action set per day."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cycle import portfolio as pf
from engine.cycle.book import Customers, load_book, owners_of
from engine.cycle.planner import Plan, RowDecisions, plan_invoices
from engine.cycle.scope import CYCLE_ACTOR
from engine.cycle.writer import write_chunk
from engine.rules.compiler import CompiledStrategy
from engine.rules.durable_eval import engine
from engine.rules.registry import Registry
from engine.services.context import Context

log = logging.getLogger(__name__)


def durable_decider(compiled: CompiledStrategy, facts: dict[str, Any]) -> tuple[npt.NDArray[np.bool_], RowDecisions]:
    names = compiled.facts("invoice")
    size = len(next(iter(facts.values()))) if facts else 0
    rows = [{n: facts[n][k].item() for n in names} for k in range(size)]
    decided = [engine().evaluate(compiled, row, "invoice") for row in rows]
    acted = np.asarray([bool(d) for d in decided], dtype=bool)
    return acted, lambda k: decided[k]


class Reevaluator:
    """Callable the service layer invokes after a committed change to some invoices."""

    def __init__(self, ctx: Context, registry: Registry) -> None:
        self.ctx, self.registry = ctx, registry

    def __call__(self, invoice_ids: list[int], as_of: date | None = None) -> Plan:
        day = as_of or self.ctx.today()
        plan = Plan()
        if not invoice_ids:
            return plan
        try:
            strategies = self.registry.current
            ids = sorted(set(invoice_ids))
            owners = Customers(ids=owners_of(self.ctx.store, ids))
            book = load_book(self.ctx.store, day, owners, ids)
            if len(book.portfolio) == 0:
                return plan
            per_days = {
                c.strategy.settings.contact_cap.per_days
                for c in strategies.strategies
                if c.strategy.settings.contact_cap
            }
            recent = pf.recent_notice_windows(self.ctx.store, day, per_days, owners.where("customer"))
            today = pf.messages_of(self.ctx.store, day, owners.where("customer"))
            plan_invoices(book.portfolio, book.accounts, strategies, recent, plan, durable_decider, today)
            write_chunk(self.ctx.store, plan.invoices, day, self.ctx.now(), str(CYCLE_ACTOR))
        except Exception:  # the change that triggered us is committed; the daily cycle will catch up
            log.exception("re-evaluation of invoices %s failed", invoice_ids)
        return plan
