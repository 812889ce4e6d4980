"""Payments: allocation, unapplied credit, settlement, reversal, on SQLite and PostgreSQL:
each command writes its state changes, their history and outbox events together, or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import ALICE, BANK, PAST_DUE, TODAY, Journal, counts, invoice, issue, mark_overdue, pay

from engine.commands import AllocationLine, RecordPayment, RecordPromise
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.errors import ValidationFailed


def test_a_partial_payment_lowers_the_open_amount_and_keeps_the_state(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 12_000, due=PAST_DUE)
    mark_overdue(service, inv)
    journal.mark()
    pay(service, customer, "P-1", 5_000, (inv, 5_000))
    after = invoice(store, inv)
    assert (after["state"], after["open"], after["paid_on"]) == ("overdue", 7_000, None)
    assert journal.history() == []
    changed, applied = journal.events()
    assert applied.type == "o2c.payment.applied"
    assert applied.data["snapshot"]["allocations"] == [{"invoiceId": inv, "amount": "50.00"}]
    # the invoice's own subscribers learn its new open amount, with the version it now has
    assert (changed.type, changed.entity_id, changed.entity_version) == (
        "o2c.invoice.amount_changed",
        inv,
        invoice(store, inv)["version"],
    )
    assert changed.data["snapshot"]["openAmount"] == "70.00"


def test_an_overpayment_becomes_unapplied_credit_of_the_customer(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    payment = pay(service, customer, "P-1", 15_000, (inv, 15_000))
    with read_only(store) as uow:
        p = uow.Payment[payment]
        assert [a.amount for a in p.allocations] == [10_000]
        assert p.unapplied_amount == 5_000
        assert uow.Customer[customer].unapplied_credit == 5_000
    assert invoice(store, inv)["state"] == "paid"


def test_a_payment_dated_after_the_business_date_is_refused_and_writes_nothing(
    store: Store, service: Collections, customer: int
) -> None:
    tomorrow = RecordPayment(customer, "P-FUT", 1_000, "EUR", TODAY + timedelta(days=1))
    with pytest.raises(ValidationFailed, match="in the future") as caught:
        service.apply_payment(tomorrow, BANK)
    assert caught.value.field == "receivedOn"
    with read_only(store) as uow:
        assert uow.select("SELECT COUNT(*) FROM payment")[0] == 0
    service.ctx.settings = service.ctx.settings.model_copy(update={"payment_future_days": 2})  # value-dated ahead
    assert service.apply_payment(tomorrow, BANK).id > 0


def test_a_payment_without_allocations_is_kept_whole_as_unapplied_credit(
    store: Store, service: Collections, customer: int
) -> None:
    issue(service, customer, "INV-1", 10_000)
    pay(service, customer, "P-1", 2_500)
    pay(service, customer, "P-2", 1_000)
    with read_only(store) as uow:
        assert uow.Customer[customer].unapplied_credit == 3_500
        assert uow.select("SELECT COUNT(*) FROM allocation")[0] == 0


def test_a_full_payment_marks_the_invoice_paid_and_keeps_its_active_promise(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    promise = service.record_promise(RecordPromise(inv, 10_000, TODAY + timedelta(days=5)), ALICE)
    assert invoice(store, inv)["state"] == "promised"
    journal.mark()
    payment = pay(service, customer, "P-1", 10_000, (inv, 4_000), (inv, 6_000))
    after = invoice(store, inv)
    assert (after["state"], after["open"], after["paid_on"]) == ("paid", 0, TODAY)
    with read_only(store) as uow:
        p = uow.PromiseToPay[promise.id]
        assert p.status == "kept"
        assert p.decided_at is not None
    (row,) = journal.history()
    assert (row.from_state, row.to_state, row.trigger, row.actor) == (
        "promised",
        "paid",
        "pay",
        "payment:bank-feed",
    )
    assert row.cause == {"kind": "payment", "payment_id": payment, "reference": "P-1"}
    assert row.reason == "paid in full"
    assert row.facts["open_amount"] == "0.00 EUR"
    # two lines on one invoice: the first lowers the open amount, the second pays it in full
    assert journal.types() == ["o2c.invoice.amount_changed", "o2c.invoice.state_changed", "o2c.payment.applied"]
    journal.assert_every_transition_has_its_event()


def test_one_payment_can_settle_several_invoices_at_once(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    first, second, third = (issue(service, customer, f"INV-{n}", 1_000 * n) for n in (1, 2, 3))
    journal.mark()
    pay(service, customer, "P-1", 4_500, (first, 1_000), (second, 2_000), (third, 1_500))
    assert [invoice(store, i)["state"] for i in (first, second, third)] == ["paid", "paid", "open"]
    assert invoice(store, third)["open"] == 1_500
    assert journal.moves() == [("invoice", "open", "paid", "pay")] * 2


def test_allocations_that_exceed_the_payment_are_refused_before_anything_is_written(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    before = counts(store)
    with pytest.raises(ValidationFailed, match="exceed the payment"):
        pay(service, customer, "P-1", 1_000, (inv, 1_001))
    assert counts(store) == before


def test_a_payment_reference_is_recorded_only_once_per_customer(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    pay(service, customer, "P-1", 1_000, (inv, 1_000))
    before = counts(store)
    with pytest.raises(ValidationFailed, match="'P-1' was already recorded"):
        pay(service, customer, "P-1", 1_000, (inv, 1_000))
    assert counts(store) == before
    assert invoice(store, inv)["open"] == 9_000


def test_a_payment_in_another_currency_than_the_invoice_is_refused(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    before = counts(store)
    cmd = RecordPayment(customer, "P-1", 1_000, "USD", TODAY, (AllocationLine(1_000, invoice_id=inv),))
    with pytest.raises(ValidationFailed, match="invoice INV-1 is in EUR, the payment in USD"):
        service.apply_payment(cmd, BANK)
    assert counts(store) == before


def test_reversing_a_payment_reopens_the_paid_invoice_where_collection_stood(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    mark_overdue(service, inv)
    payment = pay(service, customer, "P-1", 12_000, (inv, 12_000))
    assert invoice(store, inv)["paid_on"] == TODAY
    journal.mark()
    view = service.reverse_payment(payment, "cheque bounced", ALICE)
    assert view.reversed
    after = invoice(store, inv)
    assert (after["state"], after["open"], after["paid_on"]) == ("overdue", 10_000, None)
    (row,) = journal.history()
    assert (row.from_state, row.to_state, row.trigger, row.reason, row.actor) == (
        "paid",
        "overdue",
        "reopen",
        "cheque bounced",
        "user:alice",
    )
    assert row.cause == {"kind": "payment_reversal", "payment_id": payment}
    assert "o2c.payment.reversed" in journal.types()
    journal.assert_every_transition_has_its_event()
    with read_only(store) as uow:
        assert uow.Customer[customer].unapplied_credit == 0


def test_reversing_a_partial_payment_restores_the_open_amount_without_a_transition(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    payment = pay(service, customer, "P-1", 3_000, (inv, 3_000))
    journal.mark()
    service.reverse_payment(payment, "recalled by the bank", ALICE)
    assert invoice(store, inv)["state"] == "open"
    assert invoice(store, inv)["open"] == 10_000
    assert journal.history() == []
    changed, event = journal.events()
    assert (event.type, event.entity_type, event.entity_id, event.entity_version) == (
        "o2c.payment.reversed",
        "payment",
        payment,
        2,
    )
    assert (changed.type, changed.data["snapshot"]["openAmount"]) == ("o2c.invoice.amount_changed", "100.00")


def test_a_payment_is_reversed_only_once_and_only_with_a_reason(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 10_000)
    payment = pay(service, customer, "P-1", 3_000, (inv, 3_000))
    with pytest.raises(ValidationFailed, match="a reason is required"):
        service.reverse_payment(payment, " ", ALICE)
    service.reverse_payment(payment, "bounced", ALICE)
    before = counts(store)
    with pytest.raises(ValidationFailed, match="already reversed"):
        service.reverse_payment(payment, "bounced again", ALICE)
    assert counts(store) == before
    assert invoice(store, inv)["open"] == 10_000
