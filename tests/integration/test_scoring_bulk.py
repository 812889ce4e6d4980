"""The bulk risk score (raw columns into numpy, one set-based write) against the one-customer
path and against a plain per-customer reference read through Pony, on SQLite and PostgreSQL,
for a varied portfolio: the seeded demo (prompt, late, chronic, disputing and
promise-breaking payers, open disputes and promises, holds) plus a reversed payment, a partial
late payment with a dispute, a customer without a credit limit and a customer without invoices."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from engine import commands as c
from engine.demo import load_demo
from engine.scoring import compute, score_all, score_customer, thresholds
from engine.scoring.data import RECENT_DAYS, Inputs, load_inputs
from engine.service import Collections
from engine.store.bulk import Bulk
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states import invoice as inv_states
from states.actors import person
from states.errors import ValidationFailed

CLERK = person("clerk")


def _extra_situations(service: Collections, today: date) -> None:
    def customer(ref: str, limit: int) -> int:
        return service.create_customer(c.CreateCustomer(ref, ref, "smb", "EUR", limit, 30)).id

    def invoice(cid: int, number: str, amount: int, due: date, currency: str = "EUR") -> int:
        cmd = c.IssueInvoice(cid, number, amount, currency, due - timedelta(30), due)
        return service.issue_invoice(cmd, CLERK).id

    def pay(cid: int, ref: str, amount: int, on: date, inv: int) -> int:
        line = (c.AllocationLine(amount, invoice_id=inv),)
        return service.apply_payment(c.RecordPayment(cid, ref, amount, "EUR", on, line), CLERK).id

    rev = customer("X-REVERSED", 50_000)
    inv = invoice(rev, "R1", 20_000, today - timedelta(200))
    pay(rev, "RP1", 20_000, today - timedelta(150), inv)  # 50 days late
    bounced = pay(rev, "RP2", 5_000, today - timedelta(10), invoice(rev, "R2", 5_000, today))
    service.reverse_payment(bounced, "bounced", CLERK)  # counts for nothing, the invoice is open again
    part = customer("X-PARTIAL", 10_000)
    inv = invoice(part, "P1", 30_000, today - timedelta(40))
    pay(part, "PP1", 12_345, today - timedelta(5), inv)  # 35 days late, the rest overdue
    service.open_dispute(c.OpenDispute(invoice(part, "P3", 4_000, today - timedelta(3)), "pricing"), CLERK)
    pay(part, "PP2", 7_000, today - timedelta(300), invoice(part, "P2", 7_000, today - timedelta(310)))
    nolimit = customer("X-NOLIMIT", 0)
    invoice(nolimit, "N1", 9_999, today + timedelta(10))  # exposure without a limit
    customer("X-EMPTY", 100_000)
    foreign = customer("X-FOREIGN", 10_000)  # an EUR customer with a USD invoice: no EUR exposure from it
    invoice(foreign, "F1", 50_000, today - timedelta(20), currency="USD")


@pytest.fixture
def portfolio(service: Collections) -> None:
    load_demo(service, customers=120, invoices=1200, seed=11)
    _extra_situations(service, service.ctx.today())


def _reference(uow: UnitOfWork, today: date) -> Inputs:
    """The inputs the way a person would read them, object by object."""
    recent = today - timedelta(days=RECENT_DAYS)
    cols: dict[str, list[int]] = {f.name: [] for f in fields(Inputs)}
    for cust in uow.Customer.select().order_by(lambda x: x.id):
        row = dict.fromkeys(cols, 0)
        row.update(customer_id=cust.id, credit_limit=cust.credit_limit, broken_promises=cust.broken_promises)
        row["disputes"] = cust.disputes.count()
        for inv in cust.invoices:
            row["invoices"] += 1
            if inv.state in inv_states.COLLECTIBLE and inv.currency == cust.currency:
                row["exposure"] += inv.open_amount
                if inv.due_date < today:
                    row["overdue_open"] += inv.open_amount
                    row["overdue_weighted"] += inv.open_amount * (today - inv.due_date).days
                    row["overdue_count"] += 1
            for alloc in inv.allocations:
                if alloc.payment.reversed_at is not None:
                    continue
                late = max((alloc.payment.received_on - inv.due_date).days, 0)
                row["paid"] += alloc.amount
                row["paid_late_weighted"] += alloc.amount * late
                row["allocations"] += 1
                row["allocations_late"] += int(late > 0)
                if alloc.payment.received_on >= recent:
                    row["recent_paid"] += alloc.amount
                    row["recent_late_weighted"] += alloc.amount * late
        for name in cols:
            cols[name].append(row[name])
    return Inputs(**{name: np.asarray(values, dtype=np.int64) for name, values in cols.items()})


def _stored(service: Collections) -> dict[int, tuple[int, str, dict[str, Any]]]:
    with read_only(service.ctx.store) as uow:
        return {x.id: (x.risk_score, x.risk_class, x.risk_explanation) for x in uow.Customer.select()}


def test_bulk_inputs_equal_a_plain_per_customer_reading_of_the_store(service: Collections, portfolio: None) -> None:
    today = service.ctx.today()
    with UnitOfWork(service.ctx.store) as uow:
        expected = _reference(uow, today)
        loaded = load_inputs(Bulk(uow), today)
    assert len(loaded) == 125
    for f in fields(Inputs):
        assert getattr(loaded, f.name).tolist() == getattr(expected, f.name).tolist(), f.name
    assert int((loaded.overdue_count > 0).sum()) > 10 and int((loaded.disputes > 0).sum()) >= 3
    assert int((loaded.broken_promises > 0).sum()) > 3 and int((loaded.recent_paid > 0).sum()) > 10


def test_bulk_scores_classes_and_contributions_equal_the_one_customer_path(
    service: Collections, portfolio: None
) -> None:
    today = service.ctx.today()
    run = score_all(service.ctx.store, today)
    bulk = _stored(service)
    assert len(bulk) == 125 and len(set(run.scores.risk_class.tolist())) >= 3
    for cid, (score, risk_class, explanation) in bulk.items():
        one = transact(service.ctx.store, lambda uow, cid=cid: score_customer(uow, cid, today))
        assert (score, risk_class, explanation) == (one["score"], one["class"], one), cid
    with read_only(service.ctx.store) as uow:
        reference = compute(_reference(uow, today), thresholds())
    assert bulk == {
        cid: (e["score"], e["class"], e)
        for cid, e in zip(reference.customer_id.tolist(), reference.explanations(), strict=True)
    }


def test_a_bulk_re_score_of_unchanged_data_writes_no_row(service: Collections, portfolio: None) -> None:
    today = service.ctx.today()
    score_all(service.ctx.store, today)
    transact(service.ctx.store, lambda uow: score_customer(uow, 1, today))  # stored by Pony: the same text
    before = _stored(service)
    again = score_all(service.ctx.store, today)
    assert again.changed == 0
    assert _stored(service) == before


def test_a_later_business_date_rewrites_only_the_customers_whose_score_moved(
    service: Collections, portfolio: None
) -> None:
    today = service.ctx.today()
    score_all(service.ctx.store, today)
    before = _stored(service)
    later = score_all(service.ctx.store, today + timedelta(days=7))
    after = _stored(service)
    moved = [cid for cid in before if before[cid] != after[cid]]
    assert later.changed == len(moved) > 0
    assert len(moved) < len(before)  # prompt payers with nothing overdue keep their explanation


def test_bulk_scoring_of_an_empty_store_scores_nobody(service: Collections) -> None:
    run = score_all(service.ctx.store, service.ctx.today())
    assert len(run.scores.customer_id) == 0 and run.changed == 0


def _journal(service: Collections) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with read_only(service.ctx.store) as uow:
        history = uow.select(
            "SELECT entity_id, entity_version, from_state, to_state, actor, facts, reason FROM transition_history"
            " WHERE trigger = 'risk_class_changed' ORDER BY entity_id"
        )
        events = uow.select(
            "SELECT entity_id, entity_version, subject, data FROM outbox"
            " WHERE type = 'o2c.account.risk_class_changed' ORDER BY entity_id"
        )
    return [_canonical(r) for r in history], [_canonical(r) for r in events]


def _canonical(row: Any) -> tuple[Any, ...]:
    """JSON columns as sorted JSON text (PostgreSQL hands back dicts, SQLite text)."""
    return tuple(
        json.dumps(_json(v), sort_keys=True) if isinstance(v, dict) or str(v).startswith("{") else v for v in row
    )


def test_a_re_score_that_moves_customers_to_another_class_journals_each_move_with_its_new_version(
    service: Collections, portfolio: None
) -> None:
    today = service.ctx.today()
    score_all(service.ctx.store, today)  # (a reversed payment moved one customer: journaled too)
    before, journal_before = _stored(service), _journal(service)
    with read_only(service.ctx.store) as uow:
        versions = {x.id: x.version for x in uow.Customer.select()}
    run = score_all(service.ctx.store, today, limits=(5, 10, 20), now=service.ctx.now())  # stricter classes
    after = _stored(service)
    moved = sorted(cid for cid in before if before[cid][1] != after[cid][1])
    assert run.class_changed == run.journaled == len(moved) > 10
    history, events = (
        sorted(set(rows) - set(old)) for rows, old in zip(_journal(service), journal_before, strict=True)
    )
    assert [h[0] for h in history] == [e[0] for e in events] == moved
    with read_only(service.ctx.store) as uow:
        for (cid, version, from_state, to_state, actor, facts, reason), (_, event_version, subject, data) in zip(
            history, events, strict=True
        ):
            customer = uow.Customer[cid]
            assert version == event_version == customer.version == versions[cid] + 1
            assert from_state == to_state == customer.state
            assert actor == "system:risk-score" and subject == f"customers/{cid}"
            facts, data = _json(facts), _json(data)
            assert facts["risk_class"] == {"from": before[cid][1], "to": after[cid][1]}
            assert facts["risk_score"] == {"from": before[cid][0], "to": after[cid][0]}
            assert facts["top"] == [t["factor"] for t in after[cid][2]["top"]]
            assert reason.startswith(f"risk class {before[cid][1]} → {after[cid][1]}")
            assert data["snapshot"]["riskClass"] == after[cid][1] and data["entityVersion"] == version
    unmoved = next(cid for cid in before if cid not in moved)
    with read_only(service.ctx.store) as uow:
        assert uow.Customer[unmoved].version == versions[unmoved]


def test_a_first_score_sets_the_class_of_never_scored_customers_without_an_event(service: Collections) -> None:
    for n in range(3):
        service.create_customer(c.CreateCustomer(f"NEW{n}", f"New {n}", "smb", "EUR", 1_000, 30, risk_class="high"))
    run = score_all(service.ctx.store, service.ctx.today())
    assert run.class_changed == 3 and run.journaled == 0  # high (imported) → low (computed)
    assert _journal(service) == ([], [])
    assert {v[1] for v in _stored(service).values()} == {"low"}


def test_a_failing_journal_write_leaves_every_score_as_it_was(
    service: Collections, portfolio: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = service.ctx.today()
    score_all(service.ctx.store, today)
    before, journal_before = _stored(service), _journal(service)

    def broken(self: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("engine.scoring.write.JournalBatch.write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        score_all(service.ctx.store, today, limits=(5, 10, 20))
    assert _stored(service) == before
    assert _journal(service) == journal_before


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_a_naive_time_is_refused_before_anything_is_written(service: Collections, portfolio: None) -> None:
    before = _stored(service)
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        score_all(service.ctx.store, service.ctx.today(), now=datetime(2026, 3, 2, 12))
    assert _stored(service) == before
