"""CSV import of customers, invoices, payments and contacts: all rows are checked, then either everything
is written in one transaction or nothing is. Columns: `columns.py` and docs/import.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from engine.importer.aftercare import release_cleared_holds, settle_side_effects
from engine.importer.checks import check_customers, check_invoices
from engine.importer.columns import KINDS
from engine.importer.payments import plan_payments
from engine.importer.reader import Problem, Progress, count_lines, read_rows
from engine.importer.write import write_customers, write_invoices, write_payments
from engine.journal.batch import JournalBatch
from engine.notices.contact_import import check_contacts, write_contacts
from engine.store.bulk import Bulk
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.actors import Actor
from states.errors import ValidationFailed

__all__ = ["KINDS", "ImportResult", "Problem", "count_lines", "import_file"]


@dataclass
class ImportResult:
    kind: str
    path: Path
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self, shown_as: str | None = None) -> list[str]:
        """`FILE:LINE: message`, in line order."""
        name = shown_as or str(self.path)
        return [f"{name}:{p.line}: {p.message}" for p in sorted(self.problems, key=lambda p: p.line)]


def import_file(
    store: Store, kind: str, path: Path, now: datetime, today: date, progress: Progress | None = None
) -> ImportResult:
    """Check every row of `path`; write all of them in one transaction only if none is bad."""
    if kind not in KINDS:
        raise ValidationFailed(f"unknown import kind '{kind}'; one of {', '.join(KINDS)}", "kind")
    result = ImportResult(kind, path)
    parsed = read_rows(kind, path, progress)
    result.rows = len(parsed.rows) + len(parsed.problems)
    result.problems.extend(parsed.problems)
    actor = Actor("import", path.name)
    with UnitOfWork(store, write=True) as uow:
        bulk = Bulk(uow)
        journal = JournalBatch(bulk)
        if kind == "customers":
            result.problems.extend(check_customers(bulk, parsed.rows))
            if result.problems:
                return result
            result.written["customers"] = len(write_customers(bulk, journal, parsed.rows, now))
        elif kind == "invoices":
            problems, invoices = check_invoices(bulk, parsed.rows)
            result.problems.extend(problems)
            if result.problems:
                return result
            result.written["invoices"] = len(write_invoices(bulk, journal, invoices, actor, now))
        elif kind == "contacts":
            problems, contacts = check_contacts(bulk, parsed.rows)
            result.problems.extend(problems)
            if result.problems:
                return result
            result.written["contacts"] = write_contacts(bulk, contacts, now)
        else:
            problems, plan = plan_payments(bulk, parsed.rows)
            result.problems.extend(problems)
            if result.problems:
                return result
            result.written["payments"] = len(write_payments(bulk, journal, plan, actor, now, today))
            result.written["allocations"] = sum(1 for p in plan.payments for _, a in p.allocations if a > 0)
            paid: dict[int, dict[str, object]] = {
                inv_id: {"kind": "payment", "reference": p.reference} for p in plan.payments for inv_id in p.paid
            }
            result.written["invoices_paid"] = len(paid)
        result.written["history"], result.written["outbox"] = journal.write()
        if kind == "payments":
            result.written["settled_side_effects"] = settle_side_effects(uow, bulk, paid, actor, now)
            customers = sorted({p.customer_id for p in plan.payments})
            cause: dict[str, object] = {"kind": "import", "name": path.name}
            result.written["holds_released"] = len(release_cleared_holds(uow, bulk, customers, actor, now, cause))
        uow.commit()
    return result
