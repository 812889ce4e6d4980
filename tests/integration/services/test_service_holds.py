"""Credit holds: placed, released by a person, cleared by the engine, on SQLite and PostgreSQL:
each command writes its state changes, their history and outbox events together, or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import ALICE, BANK, PAST_DUE, RULE, TODAY, Journal, counts, issue, mark_overdue, pay

from engine.commands import OpenDispute, PlaceHold, RecordPromise, ReleaseHold
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor
from states.errors import InvalidTransition, NotFound, ValidationFailed


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
