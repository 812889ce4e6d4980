"""Every event the service writes matches its catalogue schema: a demo portfolio, a daily cycle,
its messages rendered, a payment and its reversal, a customer update and a risk re-score, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from jsonschema import Draft202012Validator

from engine.commands import AllocationLine, RecordPayment, UpdateCustomer
from engine.cycle.runner import run_cycle
from engine.demo import load_demo
from engine.journal.catalogue import CATALOGUE
from engine.notices.render import render_pending
from engine.notices.templates import load
from engine.scoring import score_all
from engine.service import Collections
from engine.store.unit_of_work import read_only
from engine.strategies_in_force import load_registry
from states.actors import person

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"


def test_every_written_event_validates_against_its_catalogue_schema(service: Collections) -> None:
    ctx = service.ctx
    load_demo(service, seed=3, customers=60, invoices=600)
    today = ctx.clock.today()
    strategies = load_registry(STRATEGIES).current
    run_cycle(ctx, strategies, today)
    render_pending(ctx.store, load(STRATEGIES.parent / "templates"), strategies, ctx.now())
    with read_only(ctx.store) as uow:
        inv_id, cust_id, currency = uow.select(
            "SELECT id, customer, currency FROM invoice WHERE open_amount > 100 ORDER BY id LIMIT 1"
        )[0]
    clerk = person("clerk")
    paid = service.apply_payment(
        RecordPayment(cust_id, "REF-1", 100, currency, today, (AllocationLine(invoice_id=inv_id, amount=100),)),
        clerk,
    )
    service.reverse_payment(paid.id, "returned by the bank", clerk)
    service.update_customer(UpdateCustomer(customer_id=cust_id, name="Renamed Ltd"))
    score_all(ctx.store, today, now=ctx.now())
    with read_only(ctx.store) as uow:
        rows = uow.select("SELECT type, entity_type, data FROM outbox")
    seen: Counter[str] = Counter()
    for type_, entity_type, data in rows:
        entry = CATALOGUE[type_]
        assert entity_type == entry.entity_type, type_
        body = data if isinstance(data, dict) else json.loads(data)
        errors = [e.message for e in Draft202012Validator(entry.schema()).iter_errors(body)]
        assert not errors, (type_, errors[:3], body)
        seen[type_] += 1
    for expected in (
        "o2c.invoice.issued",
        "o2c.invoice.state_changed",
        "o2c.payment.applied",
        "o2c.payment.reversed",
        "o2c.customer.updated",
        "o2c.notice.requested",
        "o2c.notice.rendered",
    ):
        assert seen[expected] > 0, expected
