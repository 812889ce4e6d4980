"""Helpers shared by the daily-cycle tests: a small portfolio built through the service layer,
the strategies in force, and read-outs of what the cycle wrote."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engine.commands import CreateCustomer, IssueInvoice
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from engine.strategies_in_force import load_registry
from states.actors import Actor

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ROOT / "strategies"
ERP = Actor("import", "erp")
AMOUNT = 100_000  # 1,000.00: above every strategy's minimum


def shipped_strategies() -> StrategySet:
    return load_registry(STRATEGIES).current


# One strategy for every segment × risk class that duns every day with no contact cap, so that a
# few consecutive business dates climb the whole ladder.
DAILY_LADDER = """\
strategy: daily-ladder
version: 3
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: first-notice
    when: dunning_level == 0
    then:
      - dun: {channel: email, template: ladder_1}
  - id: next-notice
    when: dunning_level >= 1 and days_since_last_notice >= 1
    then:
      - dun: {channel: letter, template: ladder_next}
"""


def daily_ladder(folder: Path) -> StrategySet:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "daily-ladder.yaml").write_text(textwrap.dedent(DAILY_LADDER))
    return load_registry(folder).current


def clear_cycle_tables(store: Store) -> None:
    """conftest truncates the service tables on PostgreSQL, not the cycle's own (runs, leases)."""
    with UnitOfWork(store, write=True) as uow:
        for table in ("notice", "notice_message", "collector_task", "cycle_partition", "cycle_run", "lease"):
            uow.execute(f"DELETE FROM {table}")
        uow.commit()


@dataclass
class Portfolio:
    service: Collections
    today: date
    customers: dict[str, int] = field(default_factory=dict)
    counter: int = 0

    def customer(self, name: str, segment: str, risk: str, credit_limit: int = 10_000_000) -> int:
        view = self.service.create_customer(
            CreateCustomer(
                external_ref=name,
                name=name,
                segment=segment,
                currency="EUR",
                credit_limit=credit_limit,
                email=f"{name}@example.com",
                risk_class=risk,
            )
        )
        self.customers[name] = view.id
        return int(view.id)

    def invoice(self, customer: str, days_past_due: int, amount: int = AMOUNT) -> int:
        """An invoice of `customer` due `days_past_due` days before the business date."""
        self.counter += 1
        due = self.today - timedelta(days=days_past_due)
        view = self.service.issue_invoice(
            IssueInvoice(
                customer_id=self.customers[customer],
                number=f"INV-{self.counter:05d}",
                amount=amount,
                currency="EUR",
                issue_date=due - timedelta(days=30),
                due_date=due,
            ),
            ERP,
        )
        return int(view.id)


def rows(store: Store, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    with read_only(store) as uow:
        return uow.select(sql, params or {})


def scalar(store: Store, sql: str, params: dict[str, Any] | None = None) -> int:
    return int(rows(store, sql, params)[0] or 0)


def counts(store: Store) -> dict[str, int]:
    """What a cycle could write: invoice versions, history, outbox, notices, tasks, holds."""
    return {
        "invoice_versions": scalar(store, "SELECT SUM(version) FROM invoice"),
        "customer_versions": scalar(store, "SELECT SUM(version) FROM customer"),
        "history": scalar(store, "SELECT COUNT(*) FROM transition_history"),
        "outbox": scalar(store, "SELECT COUNT(*) FROM outbox"),
        "notices": scalar(store, "SELECT COUNT(*) FROM notice"),
        "tasks": scalar(store, "SELECT COUNT(*) FROM collector_task"),
        "holds": scalar(store, "SELECT COUNT(*) FROM credit_hold"),
        "cycle_runs": scalar(store, "SELECT COUNT(*) FROM cycle_run"),
    }


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def history(store: Store, invoice_id: int) -> list[dict[str, Any]]:
    found = rows(
        store,
        "SELECT from_state, to_state, trigger, actor, cause, facts FROM transition_history "
        "WHERE entity_type = 'invoice' AND entity_id = $i ORDER BY id",
        {"i": invoice_id},
    )
    return [
        {"from": f, "to": t, "trigger": tr, "actor": a, "cause": as_json(c), "facts": as_json(x)}
        for f, t, tr, a, c, x in found
    ]


def notices(store: Store, invoice_id: int) -> list[tuple[str, str, int, str]]:
    """(kind, template, level, business date) of every notice of the invoice, oldest first."""
    return [
        (str(k), str(t), int(lv), str(d)[:10])
        for k, t, lv, d in rows(
            store,
            "SELECT kind, template, level, business_date FROM notice WHERE invoice = $i ORDER BY business_date, id",
            {"i": invoice_id},
        )
    ]


def invoice_state(store: Store, invoice_id: int) -> tuple[str, int]:
    state, level = rows(store, "SELECT state, dunning_level FROM invoice WHERE id = $i", {"i": invoice_id})[0]
    return str(state), int(level)


def work_partitions_process(argv: list[str]) -> int:
    """Process entry for the partition tests: `python cycle_support.py URL STRATEGIES DAY PARTS
    [--kill-after-chunk K] [--chunk-pause S] [--lease S] [--wait-for-lease]`: open the date's
    partitions (unless open) and work them; print the report as JSON."""
    import argparse
    import os
    import signal
    import time

    from engine.clock import clock_for_date
    from engine.config import Settings
    from engine.cycle.partitions import open_partitions, work_partitions
    from engine.services.context import Context

    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("strategies", type=Path)
    parser.add_argument("day", type=date.fromisoformat)
    parser.add_argument("parts", type=int)
    parser.add_argument("--kill-after-chunk", type=int, default=None)
    parser.add_argument("--chunk-pause", type=float, default=0.0)
    parser.add_argument("--lease", type=float, default=15.0)
    parser.add_argument("--wait-for-lease", action="store_true", help="never reap a dead holder: wait its lease out")
    args = parser.parse_args(argv)
    store = Store(args.url)
    ctx = Context(store=store, clock=clock_for_date(args.day), settings=Settings(database_url=args.url))
    strategies = load_registry(args.strategies).current
    chunks = 0

    def after_chunk(_k: int) -> None:
        nonlocal chunks
        if args.kill_after_chunk is not None and chunks == args.kill_after_chunk:
            os.kill(os.getpid(), signal.SIGKILL)
        chunks += 1
        time.sleep(args.chunk_pause)

    open_partitions(ctx, args.day, args.parts)
    worked, report = 0, None
    while True:
        report = work_partitions(
            ctx,
            strategies,
            args.day,
            chunk_size=10,
            lease_seconds=args.lease,
            after_chunk=after_chunk,
            reap_dead=not args.wait_for_lease,
        )
        worked += report.partitions_worked
        if not args.wait_for_lease or report.pending_partitions == 0:
            break
        time.sleep(0.2)  # a partition is held by someone else: wait for it to be done or to lapse
    print(json.dumps(report.as_dict() | {"partitions_worked": worked}), flush=True)
    store.disconnect()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(work_partitions_process(sys.argv[1:]))
