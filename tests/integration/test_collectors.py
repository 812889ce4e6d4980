"""Collectors on SQLite and PostgreSQL: portfolios by policy rules or by hand, the agenda ordered
by expected late money (one row per customer; money at risk when nothing is predicted),
per-collector figures, a key that acts as its collector."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cycle_support import Portfolio
from graphql_harness import codes, data, run

from engine.commands import OpenDispute, RecordPromise
from engine.keys import create_key, verify_key
from engine.queries.agenda import agenda
from engine.queries.collector_figures import collector_figures
from engine.queries.worklist import worklist_page
from engine.service import Collections
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork, read_only
from states.actors import person
from states.errors import ValidationFailed

DAY = date(2026, 3, 2)
ALICE = person("alice")


@pytest.fixture
def team(service: Collections) -> dict[str, int]:
    return {
        "keys": service.create_collector("Kim Keys", "key-accounts@example.com", ("key-accounts",)).id,
        "risk": service.create_collector("Rita Risk", "High-Risk@example.com", ()).id,
        "rest": service.create_collector("Carl Coll", "collections@example.com", ("collections",)).id,
    }


def test_portfolios_follow_the_policy_rules_and_a_hand_assignment_sticks(
    ctx: Context, service: Collections, team: dict[str, int]
) -> None:
    book = Portfolio(service, DAY)
    big = book.customer("big", "enterprise", "high")
    risky = book.customer("risky", "smb", "critical")
    plain = book.customer("plain", "smb", "low")
    report = service.assign_portfolios()
    assert (report.assigned, report.unmatched, report.unknown_collectors) == (3, 0, ())
    owner = {c: _owner(ctx, c) for c in (big, risky, plain)}
    assert owner == {big: team["keys"], risky: team["risk"], plain: team["rest"]}
    service.assign_customer(plain, team["risk"], ALICE)
    assert service.assign_portfolios().assigned == 0  # the rules leave a hand assignment alone
    assert _owner(ctx, plain) == team["risk"]


def _owner(ctx: Context, customer_id: int) -> int | None:
    with read_only(ctx.store) as uow:
        c = uow.Customer[customer_id]
        return c.collector.id if c.collector else None


def test_the_agenda_has_one_row_per_customer_ordered_by_money_at_risk(
    ctx: Context, service: Collections, team: dict[str, int]
) -> None:
    book = Portfolio(service, DAY)
    small, large, disputed = (book.customer(n, "smb", "low") for n in ("small", "large", "disputed"))
    book.invoice("small", 10, 20_000)
    book.invoice("small", 40, 10_000)
    book.invoice("large", 5, 90_000)
    book.invoice("large", -5, 500_000)  # not yet due: not at risk
    contested = book.invoice("disputed", 30, 200_000)
    service.open_dispute(OpenDispute(contested, "pricing", 150_000), ALICE)  # 500.00 of it still at risk
    for c in (small, large, disputed):
        service.assign_customer(c, team["rest"], ALICE)
    service.create_task(small, None, "collections", "call", ALICE)
    service.log_call(large, None, "voicemail", None, ALICE)
    page = agenda(ctx.store, team["rest"], DAY, 2, None)
    rows = [e.node for e in page.edges]
    assert [(r.customer_id, r.money_at_risk) for r in rows] == [(large, 90_000), (disputed, 50_000)]
    assert page.has_next
    rest = agenda(ctx.store, team["rest"], DAY, 2, page.edges[-1].cursor)
    assert [(e.node.customer_id, e.node.money_at_risk) for e in rest.edges] == [(small, 30_000)]
    assert not rest.has_next
    first = rows[0]
    assert len(first.invoice_ids) == 2 and first.last_contact_at is not None
    assert "RECORD_PROMISE" in first.allowed_actions and "START_TASK" not in first.allowed_actions
    only_small = rest.edges[0].node
    assert [t.queue for t in only_small.tasks] == ["collections"] and "START_TASK" in only_small.allowed_actions
    assert rows[1].dispute_ids != []


def test_figures_count_what_a_collector_did_and_collected(
    ctx: Context, service: Collections, team: dict[str, int]
) -> None:
    book = Portfolio(service, DAY)
    c = book.customer("c", "smb", "low")
    inv = book.invoice("c", 10, 30_000)
    service.assign_portfolios()
    carl = person("collections@example.com")
    task = service.create_task(c, inv, "collections", None, carl)
    service.assign_task(task.id, "collections@example.com", carl)
    service.complete_task(task.id, "promise", None, carl)
    service.log_call(c, inv, "promise", "pays Friday", carl)
    service.record_promise(RecordPromise(inv, 30_000, DAY + timedelta(days=4)), carl)
    figures = collector_figures(ctx.store, team["rest"], DAY, DAY)
    assert (figures.tasks_done, figures.calls_logged, figures.promises_obtained, figures.promises_kept) == (1, 1, 1, 0)
    assert figures.cash_collected == {}
    with pytest.raises(ValidationFailed):
        collector_figures(ctx.store, team["rest"], DAY, DAY - timedelta(days=1))


def test_a_collector_key_acts_as_that_collector(ctx: Context, service: Collections, team: dict[str, int]) -> None:
    principal, key = create_key(ctx, "collector", "Carl's key", "collections@example.com")
    assert verify_key(ctx.store, key) == principal and principal.collector_email == "collections@example.com"
    with pytest.raises(ValidationFailed):
        create_key(ctx, "collector", "nobody's", "nobody@example.com")


def test_bad_collectors_are_refused(service: Collections, team: dict[str, int]) -> None:
    for name, email, queues, field in (
        ("", "x@example.com", (), "name"),
        ("X", "not-an-email", (), "email"),
        ("X", "collections@example.com", (), "email"),  # taken
        ("X", "y@example.com", ("Bad Queue",), "queues"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            service.create_collector(name, email, queues)
        assert bad.value.field == field


AGENDA = """query($c: ID!) { agenda(collectorId: $c, date: "2026-03-02", first: 10) {
  pageInfo { hasNextPage } edges { node { moneyAtRisk { amount currency } allowedActions
  customer { externalRef } invoices { number daysPastDue } openTasks { queue status } promises { id }
  disputes { id } lastContactAt } } } }"""


def test_a_front_end_reads_the_agenda(service: Collections, team: dict[str, int]) -> None:
    book = Portfolio(service, DAY)
    book.customer("a", "smb", "low")
    book.invoice("a", 12, 45_000)
    service.assign_portfolios()
    found = data(run(service.ctx, AGENDA, {"c": str(team["rest"])}))["agenda"]
    (row,) = [e["node"] for e in found["edges"]]
    assert row["moneyAtRisk"] == {"amount": "450.00", "currency": "EUR"} and row["customer"]["externalRef"] == "a"
    assert row["invoices"] == [{"number": "INV-00001", "daysPastDue": 12}]
    assert codes(run(service.ctx, AGENDA, {"c": "x"})) == ["VALIDATION_FAILED"]


def test_the_worklist_narrows_to_one_collectors_portfolio(
    ctx: Context, service: Collections, team: dict[str, int]
) -> None:
    book = Portfolio(service, DAY)
    mine, other = book.customer("mine", "smb", "low"), book.customer("other", "smb", "low")
    book.invoice("mine", 20)
    book.invoice("other", 20)
    service.assign_customer(mine, team["rest"], ALICE)
    service.assign_customer(other, team["risk"], ALICE)
    page, total = worklist_page(ctx.store, DAY, 10, None, None, team["rest"])
    assert total == 1 and [e.node.customer_id for e in page.edges] == [mine]


def test_the_agenda_moves_up_a_customer_whose_not_yet_due_invoices_are_predicted_late(
    ctx: Context, service: Collections, team: dict[str, int]
) -> None:
    book = Portfolio(service, DAY)
    steady, shaky = (book.customer(n, "smb", "low") for n in ("steady", "shaky"))
    book.invoice("steady", 10, 40_000)  # past due: 400.00 at risk
    coming = book.invoice("shaky", -5, 100_000)  # not yet due, 90 % likely late: 900.00 expected late
    for c in (steady, shaky):
        service.assign_customer(c, team["rest"], ALICE)
    before = [e.node.customer_id for e in agenda(ctx.store, team["rest"], DAY, 10, None).edges]
    assert before == [steady, shaky]  # not scored: a not-yet-due invoice adds nothing
    with UnitOfWork(ctx.store, write=True) as uow:
        uow.InvoicePrediction(invoice=coming, customer=shaky, model=1, business_date=DAY,
                              expected_on=DAY + timedelta(days=20), low_on=DAY + timedelta(days=10),
                              high_on=DAY + timedelta(days=30), p_late=900, days_late=15)  # fmt: skip
        uow.commit()
    page = agenda(ctx.store, team["rest"], DAY, 1, None)
    first = [(e.node.customer_id, e.node.expected_late, e.node.money_at_risk) for e in page.edges]
    assert first == [(shaky, 90_000, 0)]
    rest = agenda(ctx.store, team["rest"], DAY, 1, page.edges[-1].cursor)
    assert [(e.node.customer_id, e.node.expected_late) for e in rest.edges] == [(steady, 40_000)]
