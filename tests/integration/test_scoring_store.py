"""Risk scores computed from what the store holds, in bulk and for one customer."""

from __future__ import annotations

from datetime import date

from engine import commands as c
from engine.scoring import score_all, score_customer
from engine.service import Collections
from engine.store.unit_of_work import read_only, transact
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
