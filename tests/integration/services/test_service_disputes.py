"""Disputes: opening, moving through review, resolution, withdrawal, on SQLite and PostgreSQL:
each command writes its state changes, their history and outbox events together, or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import ALICE, PAST_DUE, TODAY, Journal, counts, invoice, issue, mark_overdue, pay

from engine.commands import OpenDispute, ResolveDispute, TransitionInvoice
from engine.policy.disputes import dispute_policy
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.errors import InvalidTransition, ValidationFailed


def test_opening_a_dispute_pauses_the_invoice_and_writes_both_transitions(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    journal.mark()
    d = service.open_dispute(OpenDispute(inv, "pricing", description="wrong unit price"), ALICE)
    assert (d.state, d.amount, d.invoice_id) == ("open", 10_000, inv)
    assert d.due_at - d.opened_at == timedelta(days=dispute_policy().sla_days("pricing", "smb"))
    assert invoice(store, inv)["state"] == "disputed"
    assert journal.moves() == [("invoice", "open", "disputed", "dispute"), ("dispute", None, "open", "open")]
    assert journal.history()[1].reason == "wrong unit price"
    assert journal.history()[1].facts == {"reason_code": "pricing", "amount": "100.00 EUR"}
    journal.assert_every_transition_has_its_event()


def test_a_second_dispute_on_a_disputed_invoice_is_refused(store: Store, service: Collections, customer: int) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    service.open_dispute(OpenDispute(inv, "pricing"), ALICE)
    before = counts(store)
    with pytest.raises(ValidationFailed, match="already has an open dispute"):
        service.open_dispute(OpenDispute(inv, "quality"), ALICE)
    assert counts(store) == before


def test_a_paid_invoice_cannot_be_disputed(store: Store, service: Collections, customer: int) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    pay(service, customer, "P-1", 10_000, (inv, 10_000))
    before = counts(store)
    with pytest.raises(InvalidTransition, match="'paid' cannot 'dispute'"):
        service.open_dispute(OpenDispute(inv, "quality"), ALICE)
    assert counts(store) == before


def test_a_dispute_moves_through_review_and_customer_replies(
    service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    d = service.open_dispute(OpenDispute(inv, "quantity"), ALICE)
    journal.mark()
    for trigger, state in [("review", "under_review"), ("request_info", "awaiting_customer")]:
        assert service.advance_dispute(d.id, trigger, ALICE).state == state
    assert service.advance_dispute(d.id, "customer_replied", ALICE, "photos received").version == 4
    assert [m[1:] for m in journal.moves()] == [
        ("open", "under_review", "review"),
        ("under_review", "awaiting_customer", "request_info"),
        ("awaiting_customer", "under_review", "customer_replied"),
    ]
    assert journal.history()[-1].reason == "photos received"


def test_a_fully_accepted_dispute_credits_the_invoice_and_cancels_it_when_nothing_was_paid(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    d = service.open_dispute(OpenDispute(inv, "not_received"), ALICE)
    journal.mark()
    resolved = service.resolve_dispute(ResolveDispute(d.id, "accepted", note="goods lost"), ALICE)
    assert (resolved.state, resolved.outcome, resolved.credit_amount) == ("resolved", "accepted", 10_000)
    assert resolved.resolved_at is not None
    after = invoice(store, inv)
    assert (after["state"], after["open"]) == ("cancelled", 0)
    with read_only(store) as uow:
        assert [(n.amount, n.dispute.id) for n in uow.CreditNote.select()] == [(10_000, d.id)]
    assert journal.moves() == [
        ("dispute", "open", "resolved", "resolve"),
        ("invoice", "disputed", "cancelled", "cancel"),
    ]
    cancel = journal.history()[1]
    assert cancel.cause == {"kind": "dispute", "dispute_id": d.id, "outcome": "accepted"}
    assert cancel.reason == "credited in full"
    journal.assert_every_transition_has_its_event()


def test_an_accepted_dispute_over_the_unpaid_rest_settles_a_partly_paid_invoice(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    pay(service, customer, "P-1", 6_000, (inv, 6_000))
    d = service.open_dispute(OpenDispute(inv, "quality"), ALICE)
    assert d.amount == 4_000
    service.resolve_dispute(ResolveDispute(d.id, "accepted"), ALICE)
    after = invoice(store, inv)
    assert (after["state"], after["open"], after["paid_on"]) == ("paid", 0, TODAY)


def test_a_dispute_over_part_of_the_invoice_leaves_it_on_the_ladder_and_an_accepted_one_lowers_it(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    d = service.open_dispute(OpenDispute(inv, "pricing", amount=2_500), ALICE)
    assert invoice(store, inv)["state"] == "open"  # not paused: the undisputed 75.00 stays collectible
    service.resolve_dispute(ResolveDispute(d.id, "accepted"), ALICE)
    assert {k: invoice(store, inv)[k] for k in ("state", "open")} == {"state": "open", "open": 7_500}


def test_a_partial_resolution_credits_the_agreed_amount_and_resumes_collection(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    mark_overdue(service, inv)
    service.transition_invoice(TransitionInvoice(inv, "dun", "first notice"), ALICE)
    d = service.open_dispute(OpenDispute(inv, "quantity"), ALICE)
    journal.mark()
    resolved = service.resolve_dispute(ResolveDispute(d.id, "partial", credit_amount=3_000), ALICE)
    assert (resolved.outcome, resolved.credit_amount) == ("partial", 3_000)
    after = invoice(store, inv)
    assert (after["state"], after["open"], after["level"]) == ("dunning", 7_000, 1)
    with read_only(store) as uow:
        assert [n.amount for n in uow.CreditNote.select()] == [3_000]
    assert journal.moves() == [
        ("dispute", "open", "resolved", "resolve"),
        ("invoice", "disputed", "dunning", "resolve_dispute"),
    ]


def test_a_rejected_dispute_resumes_collection_without_a_credit_note(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    d = service.open_dispute(OpenDispute(inv, "terms"), ALICE)
    resolved = service.resolve_dispute(ResolveDispute(d.id, "rejected"), ALICE)
    assert (resolved.outcome, resolved.credit_amount) == ("rejected", None)
    assert {k: invoice(store, inv)[k] for k in ("state", "open")} == {"state": "open", "open": 10_000}
    assert counts(store)["credit_note"] == 0


@pytest.mark.parametrize(
    ("outcome", "credit", "message"),
    [
        ("partial", None, "needs a positive credit amount"),
        ("partial", 0, "needs a positive credit amount"),
        ("rejected", 100, "only a partial resolution takes a credit amount"),
        ("maybe", None, "unknown outcome 'maybe'"),
        ("partial", 10_001, "the credit exceeds the disputed amount"),
    ],
)
def test_an_inconsistent_resolution_is_refused_and_writes_nothing(
    store: Store, service: Collections, customer: int, outcome: str, credit: int | None, message: str
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    d = service.open_dispute(OpenDispute(inv, "pricing"), ALICE)
    before = counts(store)
    with pytest.raises(ValidationFailed, match=message):
        service.resolve_dispute(ResolveDispute(d.id, outcome, credit_amount=credit), ALICE)
    assert counts(store) == before
    assert invoice(store, inv)["state"] == "disputed"


def test_a_resolved_dispute_cannot_be_resolved_again(store: Store, service: Collections, customer: int) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    d = service.open_dispute(OpenDispute(inv, "pricing", amount=1_000), ALICE)
    service.resolve_dispute(ResolveDispute(d.id, "accepted"), ALICE)
    before = counts(store)
    with pytest.raises(InvalidTransition, match=f"dispute {d.id} in state 'resolved' cannot 'resolve'"):
        service.resolve_dispute(ResolveDispute(d.id, "accepted"), ALICE)
    assert counts(store) == before
    assert invoice(store, inv)["open"] == 9_000


def test_withdrawing_a_dispute_resumes_the_invoice(store: Store, service: Collections, customer: int) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    d = service.open_dispute(OpenDispute(inv, "duplicate"), ALICE)
    assert service.advance_dispute(d.id, "withdraw", ALICE, "customer found it").state == "withdrawn"
    assert invoice(store, inv)["state"] == "overdue"


def test_paying_a_disputed_invoice_in_full_withdraws_the_dispute(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    d = service.open_dispute(OpenDispute(inv, "pricing"), ALICE)
    journal.mark()
    pay(service, customer, "P-1", 10_000, (inv, 10_000))
    assert journal.moves() == [
        ("dispute", "open", "withdrawn", "withdraw"),
        ("invoice", "disputed", "paid", "pay"),
    ]
    with read_only(store) as uow:
        assert uow.Dispute[d.id].state == "withdrawn"
    journal.assert_every_transition_has_its_event()
