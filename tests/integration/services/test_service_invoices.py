"""Issuing invoices and moving them by hand, on SQLite and PostgreSQL:
each command writes its state changes, their history and outbox events together, or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import ALICE, PAST_DUE, TODAY, Journal, counts, invoice, issue, mark_overdue

from engine.clock import FixedClock, clock_for_date
from engine.commands import OpenDispute, RecordPromise, TransitionInvoice
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.errors import InvalidTransition, ValidationFailed


def test_issuing_an_invoice_writes_its_history_row_and_its_event(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 12_000)
    (row,) = journal.history()
    assert (row.entity_type, row.entity_id, row.from_state, row.to_state, row.trigger) == (
        "invoice",
        inv,
        None,
        "open",
        "issue",
    )
    assert (row.actor, row.cause, row.entity_version) == ("user:alice", {"kind": "user", "name": "alice"}, 1)
    (event,) = journal.events()
    assert (event.type, event.subject, event.entity_version, event.customer_id) == (
        "o2c.invoice.issued",
        f"invoices/{inv}",
        1,
        customer,
    )
    assert event.data["snapshot"]["openAmount"] == "120.00"


def test_a_manual_transition_keeps_the_person_and_the_reason_in_the_history(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 12_000, due=PAST_DUE)
    journal.mark()
    service.transition_invoice(TransitionInvoice(inv, "mark_overdue", "customer called, still unpaid"), ALICE)
    service.transition_invoice(TransitionInvoice(inv, "dun", "first notice sent by post"), ALICE)
    assert journal.moves() == [
        ("invoice", "open", "overdue", "mark_overdue"),
        ("invoice", "overdue", "dunning", "dun"),
        ("notice", None, "requested", "request"),  # the ladder step's notice, as the rule's dun requests it
    ]
    first, second, _notice = journal.history()
    assert (first.actor, first.reason) == ("user:alice", "customer called, still unpaid")
    assert (second.reason, second.facts["days_past_due"], second.facts["dunning_level"]) == (
        "first notice sent by post",
        (TODAY - PAST_DUE).days,
        0,
    )
    assert invoice(store, inv)["level"] == 1
    with read_only(store) as uow:  # a notice by hand spaces the next one like the cycle's notices do
        assert uow.Invoice[inv].last_notice_on == TODAY
    journal.assert_every_transition_has_its_event()


def test_cancelling_a_disputed_invoice_withdraws_its_dispute_and_ends_its_promise(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 12_000, due=PAST_DUE)
    promise = service.record_promise(RecordPromise(inv, 12_000, TODAY + timedelta(days=5)), ALICE)
    d = service.open_dispute(OpenDispute(inv, "duplicate", description="billed twice"), ALICE)
    journal.mark()
    service.transition_invoice(TransitionInvoice(inv, "cancel", "duplicate of INV-0"), ALICE)
    assert journal.moves() == [
        ("invoice", "disputed", "cancelled", "cancel"),
        ("dispute", "open", "withdrawn", "withdraw"),
    ]
    with read_only(store) as uow:
        assert uow.Dispute[d.id].state == "withdrawn"
        assert uow.PromiseToPay[promise.id].status == "cancelled"
    journal.assert_every_transition_has_its_event()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_manual_transition_without_a_reason_is_refused_and_writes_nothing(
    store: Store, service: Collections, customer: int, reason: str
) -> None:
    inv = issue(service, customer, "INV-1", 12_000)
    before = counts(store)
    with pytest.raises(ValidationFailed, match="a reason is required"):
        service.transition_invoice(TransitionInvoice(inv, "mark_overdue", reason), ALICE)
    assert counts(store) == before
    assert invoice(store, inv)["state"] == "open"


@pytest.mark.parametrize("trigger", ["pay", "dispute", "promise", "reopen", "keep_promise"])
def test_triggers_that_need_their_own_records_cannot_be_fired_by_hand(
    service: Collections, customer: int, trigger: str
) -> None:
    inv = issue(service, customer, "INV-1", 12_000)
    with pytest.raises(ValidationFailed, match=f"'{trigger}' cannot be fired by hand"):
        service.transition_invoice(TransitionInvoice(inv, trigger, "because"), ALICE)


def test_a_forbidden_manual_transition_raises_and_writes_nothing(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 12_000)
    before = counts(store)
    with pytest.raises(InvalidTransition, match=f"invoice {inv} in state 'open' cannot 'write_off'"):
        service.write_off(inv, "no hope", ALICE, "admin")
    assert counts(store) == before
    assert invoice(store, inv) == {"state": "open", "open": 12_000, "level": 0, "paid_on": None, "version": 1}


def test_manual_dunning_climbs_the_strategys_ladder_one_step_a_day_and_stops_at_its_top(
    store: Store, service: Collections, customer: int, clock: FixedClock
) -> None:
    inv = issue(service, customer, "INV-1", 12_000, due=PAST_DUE)
    mark_overdue(service, inv)
    maximum = 3  # smb-standard, the strategy of an smb customer of medium risk
    for day in range(maximum):
        clock.set(clock_for_date(TODAY + timedelta(days=day)).now())
        service.transition_invoice(TransitionInvoice(inv, "dun", "next notice"), ALICE)
        if day == 0:
            before = counts(store)
            with pytest.raises(ValidationFailed, match="one notice per invoice per day"):
                service.transition_invoice(TransitionInvoice(inv, "dun", "again today"), ALICE)
            assert counts(store) == before
    clock.advance(days=1)
    before = counts(store)
    with pytest.raises(InvalidTransition, match="never past the maximum"):
        service.transition_invoice(TransitionInvoice(inv, "dun", "one more"), ALICE)
    assert counts(store) == before
    assert invoice(store, inv)["level"] == maximum
