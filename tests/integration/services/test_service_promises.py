"""Promises to pay, on SQLite and PostgreSQL:
each command writes its state changes, their history and outbox events together, or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import ALICE, PAST_DUE, TODAY, Journal, counts, invoice, issue, pay

from engine.commands import OpenDispute, RecordPromise
from engine.service import Collections
from engine.store.database import Store
from states.errors import InvalidTransition, ValidationFailed


def test_a_promise_to_pay_puts_the_invoice_in_promised(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    journal.mark()
    p = service.record_promise(RecordPromise(inv, 4_000, TODAY + timedelta(days=7), note="half now"), ALICE)
    assert (p.status, p.amount, p.tolerance_days) == (
        "active",
        4_000,
        service.ctx.settings.promise_tolerance_days,
    )
    assert invoice(store, inv)["state"] == "promised"
    (row,) = journal.history()
    assert (row.from_state, row.to_state, row.trigger, row.reason) == (
        "open",
        "promised",
        "promise",
        "half now",
    )
    journal.assert_every_transition_has_its_event()


@pytest.mark.parametrize(
    ("amount", "days", "message"),
    [
        (0, 5, "promised amount must be positive"),
        (10_001, 5, "at most the open amount"),
        (100, -1, "in the past"),
    ],
)
def test_an_impossible_promise_is_refused_and_writes_nothing(
    store: Store, service: Collections, customer: int, amount: int, days: int, message: str
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    before = counts(store)
    with pytest.raises(ValidationFailed, match=message):
        service.record_promise(RecordPromise(inv, amount, TODAY + timedelta(days=days)), ALICE)
    assert counts(store) == before


def test_a_paid_invoice_takes_no_promise(store: Store, service: Collections, customer: int) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    pay(service, customer, "P-1", 10_000, (inv, 10_000))
    before = counts(store)
    with pytest.raises(InvalidTransition, match=f"invoice {inv} in state 'paid' cannot 'promise'"):
        service.record_promise(RecordPromise(inv, 1_000, TODAY + timedelta(days=3)), ALICE)
    assert counts(store) == before


def test_a_disputed_invoice_takes_no_promise(store: Store, service: Collections, customer: int) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    service.open_dispute(OpenDispute(inv, "pricing"), ALICE)
    before = counts(store)
    with pytest.raises(InvalidTransition, match="'disputed' cannot 'promise'"):
        service.record_promise(RecordPromise(inv, 1_000, TODAY + timedelta(days=3)), ALICE)
    assert counts(store) == before
