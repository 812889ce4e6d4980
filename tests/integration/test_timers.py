"""Timers on SQLite and PostgreSQL: a promise past its date plus tolerance is kept (paid in time)
or broken (dunning resumes, the customer's count grows); a dispute past its SLA escalates; running
the timers again changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cycle_support import AMOUNT, Portfolio, clear_cycle_tables, counts, history, invoice_state, rows, scalar

from engine.clock import FixedClock, clock_for_date
from engine.commands import AllocationLine, OpenDispute, RecordPayment, RecordPromise, RunTimers, TransitionInvoice
from engine.policy.disputes import dispute_policy
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.timers import TIMER, run_timers
from states.actors import Actor, person

TODAY = date(2026, 3, 2)
ALICE = person("alice")
BANK = Actor("payment", "bank-feed")
TOLERANCE = 2  # Settings.promise_tolerance_days


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture
def book(service: Collections) -> Portfolio:
    return Portfolio(service, TODAY)


def _dunned(service: Collections, invoice: int, levels: int) -> None:
    """Overdue, then one ladder step by hand on each of the `levels` days before TODAY (one notice a day)."""
    clock = service.ctx.clock
    assert isinstance(clock, FixedClock)
    clock.set(clock_for_date(TODAY - timedelta(days=levels)).now())
    service.transition_invoice(TransitionInvoice(invoice_id=invoice, trigger="mark_overdue", reason="late"), ALICE)
    for k in range(levels):
        clock.set(clock_for_date(TODAY - timedelta(days=levels - k)).now())
        service.transition_invoice(TransitionInvoice(invoice_id=invoice, trigger="dun", reason="reminder"), ALICE)
    clock.set(clock_for_date(TODAY).now())


def _promise(service: Collections, invoice: int, amount: int = AMOUNT, days: int = 3) -> int:
    view = service.record_promise(
        RecordPromise(invoice_id=invoice, amount=amount, promised_date=TODAY + timedelta(days=days)), ALICE
    )
    return int(view.id)


def _status(ctx: Context, promise: int) -> str:
    return str(rows(ctx.store, "SELECT status FROM promise_to_pay WHERE id = $p", {"p": promise})[0])


def _broken_count(ctx: Context, customer: int) -> int:
    return scalar(ctx.store, "SELECT broken_promises FROM customer WHERE id = $c", {"c": customer})


def test_an_unpaid_promise_is_broken_after_its_date_plus_tolerance_and_dunning_resumes_at_its_level(
    ctx: Context, service: Collections, book: Portfolio
) -> None:
    customer = book.customer("a", "smb", "low")
    invoice = book.invoice("a", 20)
    _dunned(service, invoice, 2)
    promise = _promise(service, invoice, days=3)
    deadline = TODAY + timedelta(days=3 + TOLERANCE)

    on_the_deadline = run_timers(ctx, deadline)
    assert on_the_deadline.promises_broken == [] and _status(ctx, promise) == "active"
    report = run_timers(ctx, deadline + timedelta(days=1))

    assert report.promises_broken == [promise]
    assert _status(ctx, promise) == "broken"
    assert invoice_state(ctx.store, invoice) == ("dunning", 2)
    assert _broken_count(ctx, customer) == 1
    last = history(ctx.store, invoice)[-1]
    assert (last["from"], last["to"], last["trigger"], last["actor"]) == (
        "promised",
        "dunning",
        "break_promise",
        "timer:o2c",
    )
    assert last["cause"]["timer"] == "promise_due" and last["cause"]["promise_id"] == promise


def test_a_broken_promise_on_an_invoice_never_dunned_returns_it_to_overdue(
    ctx: Context, service: Collections, book: Portfolio
) -> None:
    customer = book.customer("a", "smb", "low")
    invoice = book.invoice("a", 10)
    promise = _promise(service, invoice, days=1)

    run_timers(ctx, TODAY + timedelta(days=1 + TOLERANCE + 1))

    assert _status(ctx, promise) == "broken"
    assert invoice_state(ctx.store, invoice) == ("overdue", 0)
    assert _broken_count(ctx, customer) == 1


def test_deciding_a_promise_is_idempotent(ctx: Context, service: Collections, book: Portfolio) -> None:
    customer = book.customer("a", "smb", "low")
    invoice = book.invoice("a", 10)
    promise = _promise(service, invoice, days=1)
    day = TODAY + timedelta(days=10)
    run_timers(ctx, day)
    written = counts(ctx.store)

    again = run_timers(ctx, day)
    later = run_timers(ctx, day + timedelta(days=5))

    assert again.promises_broken == [] and later.promises_broken == []
    assert again.promises_kept == [] and later.promises_kept == []
    assert counts(ctx.store) == written
    assert _status(ctx, promise) == "broken"
    assert _broken_count(ctx, customer) == 1


def _on(ctx: Context, day: date) -> None:
    """Move the business date to `day` (a payment can only be recorded once it has arrived)."""
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.set(clock_for_date(day).now())


def test_a_promise_paid_in_time_is_kept_and_the_count_of_broken_promises_stays(
    ctx: Context, service: Collections, book: Portfolio
) -> None:
    customer = book.customer("a", "smb", "low")
    invoice = book.invoice("a", 20)
    _dunned(service, invoice, 1)
    promise = _promise(service, invoice, amount=AMOUNT // 2, days=3)
    _on(ctx, TODAY + timedelta(days=3 + TOLERANCE))  # the payment is recorded the day it arrives
    service.apply_payment(
        RecordPayment(
            customer_id=customer,
            reference="PTP-1",
            amount=AMOUNT // 2,
            currency="EUR",
            received_on=TODAY + timedelta(days=3 + TOLERANCE),  # the last day of the tolerance
            allocations=(AllocationLine(amount=AMOUNT // 2, invoice_id=invoice),),
        ),
        BANK,
    )

    report = run_timers(ctx, TODAY + timedelta(days=3 + TOLERANCE + 1))

    assert report.promises_kept == [promise]
    assert _status(ctx, promise) == "kept"
    assert _broken_count(ctx, customer) == 0
    # the rest is still owed: collection resumes where it stood
    assert invoice_state(ctx.store, invoice) == ("dunning", 1)
    assert history(ctx.store, invoice)[-1]["trigger"] == "keep_promise"
    assert run_timers(ctx, TODAY + timedelta(days=30)).promises_kept == []


def test_a_payment_after_the_tolerance_does_not_keep_the_promise(
    ctx: Context, service: Collections, book: Portfolio
) -> None:
    customer = book.customer("a", "smb", "low")
    invoice = book.invoice("a", 20)
    promise = _promise(service, invoice, amount=AMOUNT // 2, days=3)
    _on(ctx, TODAY + timedelta(days=3 + TOLERANCE + 1))
    service.apply_payment(
        RecordPayment(
            customer_id=customer,
            reference="PTP-LATE",
            amount=AMOUNT // 2,
            currency="EUR",
            received_on=TODAY + timedelta(days=3 + TOLERANCE + 1),
            allocations=(AllocationLine(amount=AMOUNT // 2, invoice_id=invoice),),
        ),
        BANK,
    )

    report = run_timers(ctx, TODAY + timedelta(days=3 + TOLERANCE + 2))

    assert report.promises_broken == [promise]
    assert _broken_count(ctx, customer) == 1


def test_a_dispute_past_its_sla_escalates_once(
    ctx: Context, clock: FixedClock, service: Collections, book: Portfolio
) -> None:
    book.customer("a", "smb", "low")
    invoice = book.invoice("a", 10)
    late = service.open_dispute(OpenDispute(invoice_id=invoice, reason_code="duplicate"), ALICE)
    book.customer("b", "smb", "low")
    slower = service.open_dispute(OpenDispute(invoice_id=book.invoice("b", 10), reason_code="quality"), ALICE)
    sla = dispute_policy().sla_days("duplicate", "smb")
    assert dispute_policy().sla_days("quality", "smb") > sla + 1

    clock.set(clock_for_date(TODAY + timedelta(days=sla - 1)).now())
    assert run_timers(ctx).disputes_escalated == []
    clock.set(clock_for_date(TODAY + timedelta(days=sla + 1)).now())
    report = run_timers(ctx)
    written = counts(ctx.store)
    again = run_timers(ctx)

    assert report.disputes_escalated == [late.id]
    assert again.disputes_escalated == []
    assert counts(ctx.store) == written
    states = dict(rows(ctx.store, "SELECT id, state FROM dispute"))
    assert states == {late.id: "escalated", slower.id: "open"}
    (row,) = rows(
        ctx.store,
        "SELECT trigger, actor, cause FROM transition_history WHERE entity_type = 'dispute' AND entity_id = $d "
        "AND trigger = 'escalate'",
        {"d": late.id},
    )
    assert row[0] == "escalate" and row[1] == "timer:o2c"
    assert "dispute_sla" in str(row[2])
    assert invoice_state(ctx.store, invoice) == ("disputed", 0)  # dunning stays paused


def test_timers_sent_through_the_service_report_broken_promises_but_leave_their_invoices_to_the_next_cycle(
    ctx: Context, service: Collections, book: Portfolio
) -> None:
    book.customer("a", "smb", "low")
    invoice = book.invoice("a", 10)
    _promise(service, invoice, days=1)
    reevaluated: list[list[int]] = []
    door = Collections(ctx, reevaluated.append)  # as `engine.bootstrap.wire` builds it for serve, worker, cycle

    report = door.handle(RunTimers(TODAY + timedelta(days=1 + TOLERANCE + 1)), TIMER)

    assert report.reopened_invoices == [invoice]
    # not re-evaluated at once: the next date's cycle takes it, so a kill between a cycle and its
    # timers cannot change the outcome (tests/integration/test_cycle_timers_kill.py)
    assert reevaluated == []
    assert door.handle(RunTimers(TODAY + timedelta(days=10)), TIMER).promises_broken == []
