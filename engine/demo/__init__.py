"""`o2c demo`: load the synthetic portfolio of `engine.demo.portfolio`.

The ledger (customers, invoices, payments, allocations, broken promises, with their history and
outbox rows dated when they happened) goes in with the bulk module in one transaction. Then a
few hundred live situations go through the service layer so that their history is exactly what
the service writes: open disputes (some under review, some resolved), active promises to pay,
credit holds. Finally every customer is scored (engine/scoring/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

from engine import commands as c
from engine.cashapp.demo_statement import demo_statement
from engine.demo.portfolio import BEHAVIOURS, SEGMENTS, Portfolio, generate
from engine.importer.write import (
    ALLOCATION_COLUMNS,
    CUSTOMER_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    invoice_snapshot,
)
from engine.journal.batch import JournalBatch
from engine.notices.contact_import import write_contacts
from engine.notices.contacts import ContactFields
from engine.scoring import score_all
from engine.service import Collections
from engine.store.bulk import Bulk
from engine.store.unit_of_work import UnitOfWork
from states import invoice as st
from states.actors import Actor, person
from states.dispute import REASON_CODES

LEDGER = Actor("import", "demo")
SYSTEM = Actor("system", "demo")
COLLECTOR = person("demo.collector")
PROMISE_COLUMNS = ("invoice", "customer", "amount", "promised_date", "tolerance_days", "status", "note",
                   "created_by", "created_at", "decided_at")  # fmt: skip


@dataclass
class Summary:
    customers: int = 0
    invoices: int = 0
    payments: int = 0
    broken_promises: int = 0
    disputes: int = 0
    promises: int = 0
    holds: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"demo: {self.customers} customers, {self.invoices} invoices, {self.payments} payments, "
            f"{self.broken_promises} broken promises, {self.disputes} open disputes, "
            f"{self.promises} active promises, {self.holds} customers on hold"
            + (f"; bank statement: {st}" if (st := self.extra.get("statement")) else "")
        )


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _naive(day: date) -> datetime:
    return datetime.combine(day, time(12))


def has_customers(uow: UnitOfWork) -> bool:
    return bool(uow.select("SELECT COUNT(*) FROM customer")[0])


def load_demo(service: Collections, customers: int = 2000, invoices: int = 20000, seed: int = 42) -> Summary:
    ctx = service.ctx
    pf = generate(ctx.today(), customers, invoices, seed)
    summary = Summary(customers=customers, invoices=invoices)
    with UnitOfWork(ctx.store, write=True) as uow:
        bulk = Bulk(uow)
        journal = JournalBatch(bulk)
        cids = _write_customers(bulk, journal, pf, ctx.now())
        open_ids = _write_ledger(bulk, journal, pf, cids, summary)
        journal.write()
        uow.commit()
    _live_situations(service, pf, cids, open_ids, summary, seed)
    summary.extra["statement"] = demo_statement(service, seed).as_json()
    score_all(ctx.store, ctx.today(), now=ctx.now())
    summary.extra["portfolios"] = _collectors(service)
    return summary


DEMO_COLLECTORS = (
    ("Kim Keys", "key-accounts@example.com", ("key-accounts", "manager")),
    ("Rita Risk", "high-risk@example.com", ("collections-smb", "agency")),
    ("Carl Coll", "collections@example.com", ("collections", "collections-mm", "collector")),
)


def _collectors(service: Collections) -> dict[str, int]:
    """The collectors `policy/portfolios.yaml` names, with the portfolios its rules give them."""
    for name, email, queues in DEMO_COLLECTORS:
        service.create_collector(name, email, queues)
    report = service.assign_portfolios()
    return {"collectors": len(DEMO_COLLECTORS), "assigned": report.assigned}


def _write_customers(bulk: Bulk, journal: JournalBatch, pf: Portfolio, now: datetime) -> list[int]:
    ids = bulk.reserve_ids("customer", len(pf.ref))
    at, empty = bulk.moment(now.astimezone(UTC).replace(tzinfo=None)), bulk.json({})
    rows = []
    for k, cid in enumerate(ids):
        seg, beh = SEGMENTS[pf.segment[k]], BEHAVIOURS[pf.behaviour[k]]
        slug = "".join(ch for ch in pf.name[k].lower().split(" ")[0] if ch.isalnum())
        rows.append(
            (cid, pf.ref[k], pf.name[k], seg, "medium", 50, empty, int(pf.credit_limit[k]), pf.currency[k],
             int(pf.terms[k]), pf.zone[k], *_place(pf.zone[k], k), bulk.json([f"behaviour:{beh}"]),
             f"ap@{slug}{k + 1}.example",
             "active", 0, 0, 1, at)
        )  # fmt: skip
        journal.emit(type="o2c.customer.created", entity_type="account", entity_id=cid, entity_version=1,
                     customer_id=cid, at=now, data={"snapshot": {"id": cid, "externalRef": pf.ref[k]}})  # fmt: skip
    bulk.insert("customer", CUSTOMER_COLUMNS, rows)
    write_contacts(bulk, _contacts(pf, ids), now)
    return ids


# The holiday calendar of each demo time zone: (country, subdivisions some customers are in).
_PLACES = {
    "Europe/Berlin": ("DE", ("BY", "BE", "NW", None)),
    "Europe/Paris": ("FR", (None,)),
    "Europe/Madrid": ("ES", ("MD", "CT", None)),
    "Europe/Amsterdam": ("NL", (None,)),
    "Europe/London": ("GB", ("ENG", "SCT")),
    "America/New_York": ("US", ("NY", None)),
    "America/Chicago": ("US", ("IL", "TX")),
}


def _place(zone: str, k: int) -> tuple[str | None, str | None]:
    """Country and subdivision of the `k`th customer in `zone` (every 25th has none: weekdays only)."""
    if zone not in _PLACES or k % 25 == 24:
        return None, None
    country, subdivisions = _PLACES[zone]
    return country, subdivisions[k % len(subdivisions)]


_LANGUAGE = {"Europe/Berlin": "de", "Europe/Paris": "fr", "Europe/Madrid": "es", "Europe/Amsterdam": "nl"}
_CITY = {
    "Europe/Berlin": "10115 Berlin",
    "Europe/Paris": "75002 Paris",
    "Europe/Madrid": "28013 Madrid",
    "Europe/Amsterdam": "1012 Amsterdam",
    "Europe/London": "London EC1A 1BB",
    "America/New_York": "New York, NY 10001",
}


def _contacts(pf: Portfolio, ids: list[int]) -> list[tuple[int, ContactFields]]:
    """A billing contact per customer (email, postal address, the language of its city), an SMS number
    for every third, and an AP desk for every fifth; every tenth has no email (its letter goes by post)."""
    found = []
    for k, cid in enumerate(ids):
        slug = "".join(ch for ch in pf.name[k].lower().split(" ")[0] if ch.isalnum())
        zone = pf.zone[k]
        found.append(
            (cid, ContactFields(
                role="billing",
                name=f"Accounts Payable, {pf.name[k]}",
                email=None if k % 10 == 9 else f"ap@{slug}{k + 1}.example",
                phone=f"+49151{k:08d}" if k % 3 == 0 else None,
                postal_address=f"{pf.name[k]}\n{k + 1} Market Street\n{_CITY.get(zone, '')}",
                language=_LANGUAGE.get(zone, "en"),
            ).checked())
        )  # fmt: skip
        if k % 5 == 0:
            found.append((cid, ContactFields(role="ap", name="Payables desk", email=f"payables@{slug}{k + 1}.example")))
    return found


@dataclass
class _InvoiceLog:
    journal: JournalBatch
    iid: int
    number: str
    cid: int
    currency: str
    amount: int
    due: date

    def record(
        self, frm: str | None, to: str, trigger: str, day: date, version: int, open_amount: int, **kw: Any
    ) -> None:
        snapshot = invoice_snapshot(
            self.iid, self.number, self.cid, to, 0, self.currency, self.amount, open_amount, self.due, version
        )
        self.journal.transition(
            entity_type="invoice",
            entity_id=self.iid,
            entity_version=version,
            customer_id=self.cid,
            from_state=frm,
            to_state=to,
            trigger=trigger,
            actor=kw.pop("actor", LEDGER),
            at=_at(day),
            snapshot=snapshot,
            **kw,
        )


def _write_ledger(
    bulk: Bulk, journal: JournalBatch, pf: Portfolio, cids: list[int], summary: Summary
) -> dict[int, tuple[int, int, str, int]]:
    """Invoices oldest first; returns the unpaid ones: id → (row, customer row, state, open amount)."""
    order = np.argsort(-pf.issue, kind="stable").tolist()
    ids = bulk.reserve_ids("invoice", len(order))
    pay_ids = iter(bulk.reserve_ids("payment", int(pf.paid.sum())))
    invoices, payments, allocations, promises = [], [], [], []
    broken_by: dict[int, int] = {}
    credit: dict[int, int] = {}
    still_open: dict[int, tuple[int, int, str, int]] = {}
    for iid, k in zip(ids, order, strict=True):
        row, cid, cur = int(pf.owner[k]), cids[int(pf.owner[k])], pf.currency[int(pf.owner[k])]
        issue, due, amount = pf.issue_date(k), pf.due_date(k), int(pf.amount[k])
        number = f"INV-{issue.year}-{iid:06d}"
        state, version, open_amount, paid_on = st.OPEN, 1, amount, None

        log = _InvoiceLog(journal, iid, number, cid, cur, amount, due)

        def transition(frm: str | None, to: str, trigger: str, day: date, **kw: Any) -> None:
            log.record(frm, to, trigger, day, version, open_amount, **kw)  # noqa: B023

        transition(None, st.OPEN, "issue", issue, event_type="o2c.invoice.issued")
        made, promised = due + timedelta(days=2), due + timedelta(days=7)
        decided = promised + timedelta(days=3)
        settle_day = pf.paid_on(k) if pf.paid[k] else pf.today
        if pf.broken_promise[k] and decided < settle_day:
            version += 1
            transition(st.OPEN, st.PROMISED, "promise", made, actor=SYSTEM, reason=f"promise to pay by {promised}")
            version += 1
            transition(st.PROMISED, st.OVERDUE, "break_promise", decided, actor=SYSTEM, reason="promise broken")
            state = st.OVERDUE
            made_at, decided_at = bulk.moment(_naive(made)), bulk.moment(_naive(decided))
            promises.append((iid, cid, amount, bulk.day(promised), 2, "broken", None, str(SYSTEM), made_at, decided_at))
            broken_by[cid] = broken_by.get(cid, 0) + 1
        if pf.paid[k]:
            pid, day = next(pay_ids), pf.paid_on(k)
            applied = amount * (3 + iid % 5) // 10 if pf.partial[k] else amount
            extra = (amount % 37 + 1) * 100 if iid % 53 == 0 and not pf.partial[k] else 0
            payments.append((pid, cid, f"PAY-{pid:07d}", bulk.day(day), cur, applied + extra, extra, None,
                             bulk.moment(_naive(day))))  # fmt: skip
            allocations.append((pid, iid, applied, 0))
            credit[cid] = credit.get(cid, 0) + extra
            open_amount -= applied
            version += 1
            if open_amount == 0:
                version += 1
                cause = {"kind": "payment", "payment_id": pid, "reference": f"PAY-{pid:07d}"}
                transition(state, st.PAID, "pay", day, cause=cause, reason="paid in full")
                state, paid_on = st.PAID, day
        if state != st.PAID:
            still_open[iid] = (k, row, state, open_amount)
        stamp = bulk.moment(_naive(issue))
        invoices.append((iid, cid, number, bulk.day(issue), bulk.day(due), cur, amount, open_amount, state, 0,
                         None, bulk.day(paid_on), version, stamp, stamp))  # fmt: skip
    bulk.insert("invoice", INVOICE_COLUMNS, invoices)
    bulk.insert("payment", PAYMENT_COLUMNS, payments)
    bulk.insert("allocation", ALLOCATION_COLUMNS, allocations)
    bulk.insert("promise_to_pay", PROMISE_COLUMNS, promises)
    bulk.update("customer", ("broken_promises",), sorted(broken_by.items()))
    bulk.increment("customer", "unapplied_credit", sorted((c, a) for c, a in credit.items() if a))
    summary.payments, summary.broken_promises = len(payments), len(promises)
    return still_open


def _live_situations(
    service: Collections, pf: Portfolio, cids: list[int], still_open: dict[int, tuple[int, int, str, int]],
    summary: Summary, seed: int,
) -> None:  # fmt: skip
    """Disputes, promises and holds through the service layer (their history is the service's)."""
    rng = np.random.default_rng(seed + 1)
    today, n = pf.today, len(cids)
    by_behaviour: dict[int, list[int]] = {}
    for iid, (_k, row, state, _open) in sorted(still_open.items()):
        if state == st.OPEN:
            by_behaviour.setdefault(int(pf.behaviour[row]), []).append(iid)
    disputing = by_behaviour.get(3, [])
    chosen = [disputing[i] for i in sorted(rng.permutation(len(disputing))[: max(3, n // 25)].tolist())]
    for i, iid in enumerate(chosen):
        d = service.open_dispute(c.OpenDispute(iid, REASON_CODES[i % len(REASON_CODES)]), COLLECTOR)
        if i % 3 == 1:
            service.advance_dispute(d.id, "review", COLLECTOR, "checking the delivery notes")
        elif i % 5 == 4:
            service.resolve_dispute(c.ResolveDispute(d.id, "rejected", note="price as agreed"), COLLECTOR)
            continue
        summary.disputes += 1
    late = [i for i in by_behaviour.get(1, []) if pf.due_date(still_open[i][0]) < today]
    for i, iid in enumerate([late[j] for j in sorted(rng.permutation(len(late))[: max(3, n // 40)].tolist())]):
        promised = today + timedelta(days=3 + i % 14)
        service.record_promise(
            c.RecordPromise(iid, still_open[iid][3], promised, note="agreed on the phone"), COLLECTOR
        )
        summary.promises += 1
    overdue = np.zeros(n, dtype=np.int64)
    for _iid, (k, row, _state, open_amount) in still_open.items():
        if pf.due_date(k) < today - timedelta(days=30):
            overdue[row] += open_amount
    chronic = [r for r in np.argsort(-overdue, kind="stable").tolist() if pf.behaviour[r] == 2 and overdue[r] > 0]
    held: set[int] = set()
    for r in chronic[: max(2, n // 70)]:
        service.place_hold(c.PlaceHold(cids[r], "overdue", note="more than 30 days past due"), SYSTEM)
        held.add(r)
    for r in [r for r in range(n) if pf.behaviour[r] == 4][: max(1, n // 600)]:
        service.place_hold(c.PlaceHold(cids[r], "manual", note="repeated broken promises"), COLLECTOR)
        held.add(r)
    summary.holds = len(held)
