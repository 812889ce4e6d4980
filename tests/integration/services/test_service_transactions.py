"""One transaction per command: history and outbox rows together, on SQLite and PostgreSQL:
each command writes its state changes, their history and outbox events together, or nothing."""

from __future__ import annotations

from typing import Any

from services_support import ALICE, PAST_DUE, RULE, TODAY, Journal, counts, invoice, issue, mark_overdue, pay

from engine.commands import OpenDispute, PlaceHold, RecordPromise, ResolveDispute, TransitionInvoice
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only


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
