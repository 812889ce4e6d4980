"""The service layer on SQLite and PostgreSQL: every command writes its state changes, their
history and their outbox events together, or nothing at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from engine.commands import (
    AllocationLine,
    CreateCustomer,
    IssueInvoice,
    OpenDispute,
    PlaceHold,
    RecordPayment,
    RecordPromise,
    ReleaseHold,
    ResolveDispute,
    TransitionInvoice,
)
from engine.policy.disputes import dispute_policy
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor, person
from states.errors import InvalidTransition, NotFound, ValidationFailed

TODAY = date(2026, 3, 2)  # the business date of the `clock` fixture
ISSUED = date(2026, 1, 15)
NOT_DUE = date(2026, 4, 1)
PAST_DUE = date(2026, 2, 14)
ALICE = person("alice")
BANK = Actor("payment", "bank-feed")
RULE = Actor("rule", "smb-standard/hold-when-late")


@dataclass(frozen=True)
class Row:
    entity_type: str
    entity_id: int
    entity_version: int
    from_state: str | None
    to_state: str
    trigger: str
    actor: str
    cause: dict[str, Any]
    facts: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class Event:
    type: str
    subject: str
    entity_type: str
    entity_id: int
    entity_version: int
    customer_id: int | None
    data: dict[str, Any]


class Journal:
    """What the commands since the last mark wrote to history and outbox."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.history_mark = self.outbox_mark = 0
        self.mark()

    def _max(self, table: str) -> int:
        with read_only(self.store) as uow:
            return int(uow.select(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0])

    def mark(self) -> None:
        self.history_mark, self.outbox_mark = self._max("transition_history"), self._max("outbox")

    def history(self) -> list[Row]:
        with read_only(self.store) as uow:
            rows = uow.TransitionRecord.select(lambda t: t.id > self.history_mark).order_by(lambda t: t.id)
            return [
                Row(
                    t.entity_type,
                    t.entity_id,
                    t.entity_version,
                    t.from_state,
                    t.to_state,
                    t.trigger,
                    t.actor,
                    dict(t.cause),
                    dict(t.facts),
                    t.reason,
                )
                for t in rows
            ]

    def events(self) -> list[Event]:
        with read_only(self.store) as uow:
            rows = uow.OutboxEvent.select(lambda e: e.id > self.outbox_mark).order_by(lambda e: e.id)
            return [
                Event(
                    e.type,
                    e.subject,
                    e.entity_type,
                    e.entity_id,
                    e.entity_version,
                    e.customer_id,
                    dict(e.data),
                )
                for e in rows
            ]

    def moves(self) -> list[tuple[str, str | None, str, str]]:
        return [(r.entity_type, r.from_state, r.to_state, r.trigger) for r in self.history()]

    def types(self) -> list[str]:
        return [e.type for e in self.events()]

    def assert_every_transition_has_its_event(self) -> None:
        events = {(e.entity_type, e.entity_id, e.entity_version, e.data.get("trigger")): e for e in self.events()}
        for row in self.history():
            event = events.get((row.entity_type, row.entity_id, row.entity_version, row.trigger))
            assert event is not None, f"no outbox event for {row}"
            assert (event.data["from"], event.data["to"], event.data["actor"]) == (
                row.from_state,
                row.to_state,
                row.actor,
            )


def counts(store: Store) -> dict[str, int]:
    tables = (
        "invoice",
        "payment",
        "allocation",
        "credit_note",
        "dispute",
        "promise_to_pay",
        "credit_hold",
        "transition_history",
        "outbox",
    )
    with read_only(store) as uow:
        return {t: int(uow.select(f"SELECT COUNT(*) FROM {t}")[0]) for t in tables}


@pytest.fixture
def journal(store: Store) -> Journal:
    return Journal(store)


@pytest.fixture
def customer(service: Collections) -> int:
    cmd = CreateCustomer(external_ref="C-1", name="Acme", segment="smb", currency="EUR", credit_limit=1_000_000)
    return service.create_customer(cmd).id


def issue(service: Collections, customer: int, number: str, amount: int, due: date = NOT_DUE) -> int:
    return service.issue_invoice(IssueInvoice(customer, number, amount, "EUR", ISSUED, due), ALICE).id


def pay(service: Collections, customer: int, ref: str, amount: int, *lines: tuple[int, int]) -> int:
    allocations = tuple(AllocationLine(amount=a, invoice_id=i) for i, a in lines)
    return service.apply_payment(RecordPayment(customer, ref, amount, "EUR", TODAY, allocations), BANK).id


def invoice(store: Store, invoice_id: int) -> dict[str, Any]:
    with read_only(store) as uow:
        i = uow.Invoice[invoice_id]
        return {
            "state": i.state,
            "open": i.open_amount,
            "level": i.dunning_level,
            "paid_on": i.paid_on,
            "version": i.version,
        }


def mark_overdue(service: Collections, invoice_id: int) -> None:
    service.transition_invoice(TransitionInvoice(invoice_id, "mark_overdue", "past grace days"), ALICE)


# --- issue and manual transitions --------------------------------------------------------------


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
    ]
    first, second = journal.history()
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


def test_manual_dunning_stops_at_the_configured_maximum_level(
    store: Store, service: Collections, customer: int
) -> None:
    inv = issue(service, customer, "INV-1", 12_000, due=PAST_DUE)
    mark_overdue(service, inv)
    maximum = service.ctx.settings.max_dunning_level
    for _ in range(maximum):
        service.transition_invoice(TransitionInvoice(inv, "dun", "next notice"), ALICE)
    before = counts(store)
    with pytest.raises(InvalidTransition, match="never past the maximum"):
        service.transition_invoice(TransitionInvoice(inv, "dun", "one more"), ALICE)
    assert counts(store) == before
    assert invoice(store, inv)["level"] == maximum


# --- payments ----------------------------------------------------------------------------------


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


# --- disputes ----------------------------------------------------------------------------------


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


# --- promises ----------------------------------------------------------------------------------


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


# --- credit holds ------------------------------------------------------------------------------


def account(store: Store, customer: int) -> tuple[str, list[str]]:
    with read_only(store) as uow:
        c = uow.Customer[customer]
        return c.state, sorted(h.reason for h in c.holds if h.released_at is None)


def test_placing_holds_puts_the_account_on_hold_with_every_reason(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    service.place_hold(PlaceHold(customer, "overdue"), RULE)
    hold = service.place_hold(PlaceHold(customer, "manual", note="fraud check"), ALICE)
    assert (hold.reason, hold.placed_by, hold.note) == ("manual", "user:alice", "fraud check")
    assert account(store, customer) == ("on_hold", ["manual", "overdue"])
    assert journal.moves() == [
        ("account", "active", "on_hold", "place_hold"),
        ("account", "on_hold", "on_hold", "place_hold"),
    ]
    assert journal.types()[-2:] == ["o2c.account.credit_hold_placed"] * 2
    journal.assert_every_transition_has_its_event()


def test_the_same_hold_reason_is_not_placed_twice(store: Store, service: Collections, customer: int) -> None:
    service.place_hold(PlaceHold(customer, "overdue"), RULE)
    before = counts(store)
    with pytest.raises(ValidationFailed, match="already on 'overdue' hold"):
        service.place_hold(PlaceHold(customer, "overdue"), RULE)
    assert counts(store) == before


def test_only_a_person_places_a_manual_hold(store: Store, service: Collections, customer: int) -> None:
    before = counts(store)
    with pytest.raises(ValidationFailed, match="a manual hold is placed by a person"):
        service.place_hold(PlaceHold(customer, "manual"), RULE)
    assert counts(store) == before
    assert account(store, customer) == ("active", [])


def test_a_payment_that_clears_the_overdue_invoices_releases_the_automatic_hold_but_not_the_manual_one(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    late = issue(service, customer, "INV-LATE", 10_000, due=PAST_DUE)
    mark_overdue(service, late)
    service.place_hold(PlaceHold(customer, "overdue"), RULE)
    service.place_hold(PlaceHold(customer, "manual", note="awaiting guarantee"), ALICE)
    pay(service, customer, "P-1", 4_000, (late, 4_000))
    assert account(store, customer) == ("on_hold", ["manual", "overdue"])  # still overdue
    journal.mark()
    payment = pay(service, customer, "P-2", 6_000, (late, 6_000))
    assert account(store, customer) == ("on_hold", ["manual"])
    release = [r for r in journal.history() if r.entity_type == "account"]
    assert [(r.from_state, r.to_state, r.trigger) for r in release] == [("on_hold", "on_hold", "release_hold")]
    assert release[0].cause == {"kind": "payment", "payment_id": payment, "reference": "P-2"}
    assert release[0].facts == {"hold_reason": "overdue", "remaining_reasons": ["manual"]}
    with read_only(store) as uow:
        released = uow.CreditHold.get(reason="overdue")
        assert (released.released_by, released.release_reason_code) == (
            "payment:bank-feed",
            "condition_cleared",
        )
    assert "o2c.account.credit_hold_released" in journal.types()
    journal.assert_every_transition_has_its_event()


def test_a_payment_that_clears_the_only_hold_makes_the_account_active_again(
    store: Store, service: Collections, customer: int
) -> None:
    late = issue(service, customer, "INV-LATE", 10_000, due=PAST_DUE)
    mark_overdue(service, late)
    service.place_hold(PlaceHold(customer, "overdue"), RULE)
    pay(service, customer, "P-1", 10_000, (late, 10_000))
    assert account(store, customer) == ("active", [])


@pytest.mark.parametrize("pause", ["dispute", "promise", "not yet marked overdue"])
def test_money_still_past_due_keeps_the_overdue_hold_whatever_the_invoice_state(
    store: Store, service: Collections, customer: int, journal: Journal, pause: str
) -> None:
    late = issue(service, customer, "INV-LATE", 10_000, due=PAST_DUE)
    other = issue(service, customer, "INV-OTHER", 2_000, due=PAST_DUE)
    if pause == "dispute":
        service.open_dispute(OpenDispute(late, "pricing"), ALICE)
    elif pause == "promise":
        service.record_promise(RecordPromise(late, 10_000, TODAY + timedelta(days=3)), ALICE)
    service.place_hold(PlaceHold(customer, "overdue"), RULE)
    journal.mark()
    pay(service, customer, "P-1", 2_000, (other, 2_000))
    assert account(store, customer) == ("on_hold", ["overdue"])
    assert [r for r in journal.history() if r.entity_type == "account"] == []


@pytest.mark.parametrize(
    ("actor", "code"),
    [(RULE, "cleared"), (BANK, "cleared"), (Actor("system", "o2c"), "cleared"), (ALICE, None), (ALICE, "  ")],
    ids=["rule", "payment", "system", "person-without-code", "person-with-blank-code"],
)
def test_a_manual_hold_released_by_a_non_person_or_without_a_reason_code_is_refused_and_writes_nothing(
    store: Store, service: Collections, customer: int, actor: Actor, code: str | None
) -> None:
    service.place_hold(PlaceHold(customer, "manual"), ALICE)
    before = counts(store)
    with pytest.raises(InvalidTransition, match="a manual hold is released only by a person with a reason code"):
        service.release_hold(ReleaseHold(customer, "manual", reason_code=code), actor)
    assert counts(store) == before
    assert account(store, customer) == ("on_hold", ["manual"])


def test_a_person_releases_a_manual_hold_with_a_reason_code(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    service.place_hold(PlaceHold(customer, "manual"), ALICE)
    journal.mark()
    view = service.release_hold(ReleaseHold(customer, "manual", reason_code="guarantee_received"), ALICE)
    assert view.state == "active"
    assert account(store, customer) == ("active", [])
    (row,) = journal.history()
    assert (row.from_state, row.to_state, row.actor, row.reason) == (
        "on_hold",
        "active",
        "user:alice",
        "guarantee_received",
    )
    with read_only(store) as uow:
        h = uow.CreditHold.get(reason="manual")
        assert (h.released_by, h.release_reason_code) == ("user:alice", "guarantee_received")


def test_releasing_a_hold_that_does_not_hold_the_account_is_not_found(
    store: Store, service: Collections, customer: int
) -> None:
    before = counts(store)
    with pytest.raises(NotFound, match="no active 'overdue' hold"):
        service.release_hold(ReleaseHold(customer, "overdue"), RULE)
    assert counts(store) == before


# --- one transaction per command ---------------------------------------------------------------


def test_every_command_writes_its_history_and_outbox_rows_together(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    """Row counts before/after each command: each transition gets one history row and one event."""
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    steps: list[tuple[str, Any, int, int]] = [
        # (what, command, history rows added, outbox rows added)
        ("mark overdue", lambda: mark_overdue(service, inv), 1, 1),
        ("place hold", lambda: service.place_hold(PlaceHold(customer, "overdue"), RULE), 1, 1),
        ("promise", lambda: service.record_promise(RecordPromise(inv, 1_000, TODAY), ALICE), 1, 1),
        ("dispute", lambda: service.open_dispute(OpenDispute(inv, "pricing", amount=2_000), ALICE), 2, 2),
        ("partial payment", lambda: pay(service, customer, "P-1", 3_000, (inv, 3_000)), 0, 2),
        ("resolve", lambda: service.resolve_dispute(ResolveDispute(d_id(), "accepted"), ALICE), 2, 2),
        # pays the rest: invoice paid, overdue hold released, payment event
        ("full payment", lambda: pay(service, customer, "P-2", 5_000, (inv, 5_000)), 2, 3),
    ]

    def d_id() -> int:
        with read_only(store) as uow:
            return int(uow.Dispute.select().first().id)

    for what, command, history_added, outbox_added in steps:
        before = counts(store)
        command()
        after = counts(store)
        assert (
            after["transition_history"] - before["transition_history"],
            after["outbox"] - before["outbox"],
        ) == (history_added, outbox_added), what
    assert invoice(store, inv)["state"] == "paid"
    journal.assert_every_transition_has_its_event()


def test_entity_versions_in_the_outbox_always_grow_per_entity(
    store: Store, service: Collections, customer: int, journal: Journal
) -> None:
    inv = issue(service, customer, "INV-1", 10_000, due=PAST_DUE)
    mark_overdue(service, inv)
    pay(service, customer, "P-1", 2_000, (inv, 2_000))
    service.transition_invoice(TransitionInvoice(inv, "dun", "notice"), ALICE)
    payment = pay(service, customer, "P-2", 8_000, (inv, 8_000))
    service.reverse_payment(payment, "bounced", ALICE)
    versions = [e.entity_version for e in journal.events() if e.entity_type == "invoice"]
    # issued, overdue, partial payment, dun, paid, reopened: every version has its event
    assert versions == list(range(1, 7))
    assert versions[-1] == invoice(store, inv)["version"]
