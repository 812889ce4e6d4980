"""Write-offs within limits on SQLite and PostgreSQL: within the role's limit at once; above it a
request that another person approves or rejects, both in the history."""

from __future__ import annotations

import pytest
from graphql_harness import codes, data, run

from engine.commands import CreateCustomer, IssueInvoice, TransitionInvoice
from engine.service import Collections
from engine.services.context import Context
from engine.store.unit_of_work import read_only
from states.actors import person
from states.errors import Forbidden, InvalidTransition, ValidationFailed

ANN, BOB, CAROL = person("ann"), person("bob"), person("carol")


def _escalated(service: Collections, number: str, amount: int) -> int:
    ctx = service.ctx
    customer = service.create_customer(CreateCustomer(f"C-{number}", "C", "smb", "EUR", 10**9)).id
    due = ctx.today().replace(day=1)
    inv = service.issue_invoice(IssueInvoice(customer, number, amount, "EUR", due, due), ANN).id
    service.transition_invoice(TransitionInvoice(inv, "mark_overdue", "late"), ANN)
    service.transition_invoice(TransitionInvoice(inv, "escalate", "no answer"), ANN)
    return int(inv)


def _state(ctx: Context, inv: int) -> str:
    with read_only(ctx.store) as uow:
        return str(uow.Invoice[inv].state)


def test_a_write_off_within_the_role_limit_happens_at_once(ctx: Context, service: Collections) -> None:
    inv = _escalated(service, "INV-1", 40_000)  # 400.00 EUR: a collector may write off up to 500.00
    outcome = service.write_off(inv, "uncollectable", ANN, "collector")
    assert (outcome.written_off, outcome.request) == (True, None)
    assert _state(ctx, inv) == "written_off"


def test_above_the_limit_a_request_waits_for_another_person(ctx: Context, service: Collections) -> None:
    inv = _escalated(service, "INV-2", 90_000)
    outcome = service.write_off(inv, "customer insolvent", ANN, "collector")
    assert not outcome.written_off and outcome.request is not None
    request = outcome.request
    assert _state(ctx, inv) == "escalated"
    with pytest.raises(Forbidden):
        service.write_off(inv, "again", BOB, "collector")  # one request at a time
    with pytest.raises(InvalidTransition, match="other than its requester"):
        service.decide_write_off(request.id, True, None, ANN, "admin")  # not your own
    with pytest.raises(Forbidden, match="may not approve"):
        service.decide_write_off(request.id, True, None, BOB, "collector")  # above bob's limit too
    approved = service.decide_write_off(request.id, True, "agreed", CAROL, "admin")
    assert (approved.status, approved.decided_by) == ("approved", "user:carol")
    assert _state(ctx, inv) == "written_off"
    with read_only(ctx.store) as uow:
        steps = uow.select(
            "SELECT trigger, to_state, actor FROM transition_history WHERE entity_type = 'write_off' ORDER BY id"
        )
    assert [tuple(s) for s in steps] == [("request", "pending", "user:ann"), ("approve", "approved", "user:carol")]


def test_a_rejected_request_leaves_the_invoice_escalated(ctx: Context, service: Collections) -> None:
    inv = _escalated(service, "INV-3", 90_000)
    request = service.write_off(inv, "tired of it", ANN, "collector").request
    assert request is not None
    with pytest.raises(ValidationFailed):
        service.decide_write_off(request.id, False, " ", CAROL, "admin")
    rejected = service.decide_write_off(request.id, False, "keep chasing", CAROL, "admin")
    assert rejected.status == "rejected" and _state(ctx, inv) == "escalated"
    assert service.pending_write_offs() == []


def test_a_viewer_may_not_write_off_and_a_request_shows_in_the_api(service: Collections) -> None:
    inv = _escalated(service, "INV-4", 90_000)
    mutation = """mutation($i: ID!) { writeOffInvoice(invoiceId: $i, note: "gone") {
      writtenOff request { status amount { amount } history { trigger toState } } } }"""
    assert codes(run(service.ctx, mutation, {"i": str(inv)}, role="viewer")) == ["FORBIDDEN"]
    found = data(run(service.ctx, mutation, {"i": str(inv)}, role="collector"))["writeOffInvoice"]
    assert found == {
        "writtenOff": False,
        "request": {
            "status": "PENDING",
            "amount": {"amount": "900.00"},
            "history": [{"trigger": "request", "toState": "pending"}],
        },
    }
