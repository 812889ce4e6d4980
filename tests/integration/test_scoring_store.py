"""Risk scores computed from what the store holds, in bulk and for one customer."""

from __future__ import annotations

from datetime import date

from engine import commands as c
from engine.scoring import score_all, score_customer
from engine.service import Collections
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states.actors import person

CLERK = person("clerk")


def customer_with_history(service: Collections, ref: str, days_late: int) -> int:
    cust = service.create_customer(c.CreateCustomer(ref, ref, "smb", "EUR", 100_000, 30))
    for n in range(4):
        issued = date(2025, 9, 1 + n)
        service.issue_invoice(c.IssueInvoice(cust.id, f"{ref}-{n}", 10_000, "EUR", issued), CLERK)
        service.apply_payment(
            c.RecordPayment(
                cust.id,
                f"{ref}-P{n}",
                10_000,
                "EUR",
                date(2025, 10, 1 + n + days_late),  # due on 1 October + n
                (c.AllocationLine(10_000, invoice_number=f"{ref}-{n}"),),
            ),
            CLERK,
        )
    return cust.id


def test_score_all_ranks_a_late_payer_above_a_prompt_one_and_stores_the_explanation(
    service: Collections,
) -> None:
    prompt = customer_with_history(service, "PROMPT", 0)
    late = customer_with_history(service, "LATE", 25)
    scores = score_all(service.ctx.store, service.ctx.today()).scores
    assert sorted(scores.customer_id.tolist()) == sorted([prompt, late])
    with read_only(service.ctx.store) as uow:
        p, l_ = uow.Customer[prompt], uow.Customer[late]
        assert p.risk_score < l_.risk_score
        assert p.risk_class == "low"
        assert [t["factor"] for t in l_.risk_explanation["top"]] == ["share_late", "days_late"]
        assert l_.risk_explanation["factors"]["days_late"]["value"] == 25.0
        assert l_.risk_explanation["score"] == l_.risk_score


def test_score_customer_recomputes_one_customer_inside_the_callers_unit_of_work(service: Collections) -> None:
    late = customer_with_history(service, "LATE", 20)
    explanation = transact(service.ctx.store, lambda uow: score_customer(uow, late, service.ctx.today()))
    with read_only(service.ctx.store) as uow:
        stored = uow.Customer[late]
        assert (stored.risk_score, stored.risk_class) == (explanation["score"], explanation["class"])
        assert stored.risk_score > 0


def test_one_customer_whose_class_moves_gets_a_history_row_and_an_event_like_the_bulk_path(
    service: Collections,
) -> None:
    late = customer_with_history(service, "LATE", 25)  # every payment already scored it once
    now = service.ctx.now()

    with read_only(service.ctx.store) as uow:
        scored_class, scored_version = uow.Customer[late].risk_class, uow.Customer[late].version
    assert scored_class != "low"

    def demote(uow: UnitOfWork) -> None:
        uow.Customer[late].risk_class = "low"

    transact(service.ctx.store, demote)
    explanation = transact(service.ctx.store, lambda uow: score_customer(uow, late, service.ctx.today(), at=now))
    with read_only(service.ctx.store) as uow:
        customer = uow.Customer[late]
        assert (customer.risk_class, customer.version) == (scored_class, scored_version + 1)
        (row,) = uow.TransitionRecord.select(lambda t: t.trigger == "risk_class_changed")[:]
        assert (row.entity_type, row.entity_id, row.entity_version) == ("account", late, scored_version + 1)
        assert row.facts["risk_class"] == {"from": "low", "to": scored_class}
        assert row.facts["top"] == [t["factor"] for t in explanation["top"]]
        (event,) = uow.OutboxEvent.select(lambda e: e.type == "o2c.account.risk_class_changed")[:]
        assert (event.subject, event.entity_version) == (f"customers/{late}", scored_version + 1)
        assert event.data["snapshot"]["riskClass"] == scored_class


def test_rescoring_one_customer_without_a_class_change_writes_no_event(service: Collections) -> None:
    late = customer_with_history(service, "LATE", 25)
    with read_only(service.ctx.store) as uow:
        before = (uow.Customer[late].version, uow.select("SELECT COUNT(*) FROM outbox")[0])
    transact(service.ctx.store, lambda uow: score_customer(uow, late, service.ctx.today()))
    with read_only(service.ctx.store) as uow:
        assert (uow.Customer[late].version, uow.select("SELECT COUNT(*) FROM outbox")[0]) == before
