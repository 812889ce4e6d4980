"""The store on SQLite and PostgreSQL (every test runs on both through the `database_url` fixture)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from pony.orm import OptimisticCheckError, TransactionIntegrityError

from engine.commands import AllocationLine, CreateCustomer, IssueInvoice, RecordPayment
from engine.events.notify import has_trigger
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.store.upgrades import LATEST, STEPS, current_version, upgrade
from states.actors import Actor, person
from states.errors import Conflict, ValidationFailed

ISSUED = date(2026, 2, 1)
DUE = date(2026, 4, 1)  # not yet due on the test business date
CLERK = person("clerk")
BANK = Actor("payment", "bank-feed")
NOW = datetime(2026, 3, 2, 12)


def new_customer(service: Collections, ref: str = "C-1", limit: int = 10**9, currency: str = "EUR") -> int:
    return service.create_customer(
        CreateCustomer(external_ref=ref, name=f"Customer {ref}", segment="smb", currency=currency, credit_limit=limit)
    ).id


def new_invoice(service: Collections, customer_id: int, number: str, amount: int) -> int:
    cmd = IssueInvoice(customer_id, number, amount, "EUR", ISSUED, DUE)
    return service.issue_invoice(cmd, CLERK).id


def pay(service: Collections, customer_id: int, ref: str, *lines: tuple[int, int], amount: int | None = None) -> None:
    allocations = tuple(AllocationLine(amount=a, invoice_id=i) for i, a in lines)
    total = sum(a for _, a in lines) if amount is None else amount
    service.apply_payment(RecordPayment(customer_id, ref, total, "EUR", ISSUED, allocations), BANK)


def count(store: Store, table: str) -> int:
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM {table}")[0])


def counts(store: Store) -> dict[str, int]:
    tables = ("customer", "invoice", "payment", "allocation", "transition_history", "outbox", "credit_note")
    return {t: count(store, t) for t in tables}


def in_thread(store: Store, fn: Callable[[], None]) -> None:
    """Run `fn` in its own thread (its own Pony session and connection) and wait for it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # handed back to the test thread
            errors.append(exc)
        finally:
            store.disconnect()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def lower_open_amount(store: Store, invoice_id: int, by: int) -> None:
    with UnitOfWork(store) as uow:
        inv = uow.Invoice[invoice_id]
        inv.open_amount -= by
        inv.version += 1
        uow.commit()


def open_amount(store: Store, invoice_id: int) -> int:
    with read_only(store) as uow:
        return int(uow.Invoice[invoice_id].open_amount)


# --- schema ----------------------------------------------------------------------------------


def test_upgrading_an_up_to_date_schema_applies_nothing_and_keeps_one_row_per_version(store: Store) -> None:
    assert upgrade(store) == []
    assert upgrade(store) == []
    assert current_version(store) == LATEST
    with read_only(store) as uow:
        rows = uow.select("SELECT version, description FROM schema_version ORDER BY version")
    assert [(int(v), d) for v, d in rows] == [(s.version, s.description) for s in STEPS]


def test_the_schema_wakes_subscribers_by_notify_on_postgresql_only(store: Store) -> None:
    """Step 8: PostgreSQL gets the outbox NOTIFY trigger the event hub listens to; SQLite has none."""
    assert has_trigger(store) == store.is_postgres
    with read_only(store) as uow:
        if store.is_postgres:
            names = uow.select("SELECT indexname FROM pg_indexes WHERE tablename = 'webhook_delivery'")
        else:
            names = uow.select("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_delivery'")
    assert "idx_webhook_delivery_event" in names


def test_upgrade_steps_apply_in_order_from_any_version_and_are_recorded(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/fresh.sqlite")
    try:
        assert current_version(store) == 0
        assert [s.version for s in upgrade(store, target=2)] == [1, 2]
        assert current_version(store) == 2
        assert [s.version for s in upgrade(store)] == [s.version for s in STEPS if s.version > 2]
        assert current_version(store) == LATEST
        assert upgrade(store) == []
        assert count(store, "schema_version") == len(STEPS)
    finally:
        store.disconnect()


# --- keys and columns ------------------------------------------------------------------------


def test_an_invoice_number_is_unique_per_customer_in_the_database(store: Store, service: Collections) -> None:
    first = new_customer(service, "C-1")
    new_invoice(service, first, "INV-1", 1_000)
    with pytest.raises(TransactionIntegrityError):
        with UnitOfWork(store, write=True) as uow:
            customer = uow.Customer[first]
            uow.Invoice(
                customer=customer,
                number="INV-1",
                issue_date=ISSUED,
                due_date=DUE,
                currency="EUR",
                amount=2_000,
                open_amount=2_000,
                state="open",
                created_at=NOW,
                updated_at=NOW,
            )
            uow.commit()
    assert count(store, "invoice") == 1


def test_the_service_refuses_a_duplicate_invoice_number_but_another_customer_may_reuse_it(
    store: Store, service: Collections
) -> None:
    first, second = new_customer(service, "C-1"), new_customer(service, "C-2")
    new_invoice(service, first, "INV-1", 1_000)
    with pytest.raises(ValidationFailed, match="'INV-1' already exists for this customer"):
        new_invoice(service, first, "INV-1", 1_000)
    new_invoice(service, second, "INV-1", 1_000)
    with read_only(store) as uow:
        assert sorted(i.customer.external_ref for i in uow.Invoice.select(lambda i: i.number == "INV-1")) == [
            "C-1",
            "C-2",
        ]


def test_money_columns_hold_amounts_far_beyond_what_a_float_keeps_exactly(store: Store, service: Collections) -> None:
    huge = 2**62 + 1  # not representable as a float; 10^15 minor units are well below it
    customer = new_customer(service, "C-BIG", limit=2**63 - 1)
    inv = new_invoice(service, customer, "INV-HUGE", huge)
    small = new_invoice(service, customer, "INV-1E15", 10**15)
    pay(service, customer, "P-1", (inv, 1), (small, 10**15 - 3))
    with read_only(store) as uow:
        assert uow.Customer[customer].credit_limit == 2**63 - 1
        assert (uow.Invoice[inv].amount, uow.Invoice[inv].open_amount) == (huge, huge - 1)
        assert uow.Invoice[small].open_amount == 3
        assert uow.Payment.get(reference="P-1").amount == 10**15 - 2


# --- unit of work ----------------------------------------------------------------------------


def _customer_row(uow: UnitOfWork, ref: str) -> None:
    uow.Customer(
        external_ref=ref,
        name=ref,
        segment="smb",
        currency="EUR",
        credit_limit=0,
        payment_terms_days=30,
        created_at=NOW,
    )
    uow.flush()


def test_a_unit_of_work_that_is_not_committed_leaves_no_row(store: Store) -> None:
    with UnitOfWork(store, write=True) as uow:
        _customer_row(uow, "GHOST")
        assert uow.select("SELECT COUNT(*) FROM customer")[0] == 1  # flushed inside the transaction
    assert count(store, "customer") == 0


def test_a_unit_of_work_that_raises_leaves_no_row_and_releases_the_store(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), UnitOfWork(store, write=True) as uow:
        _customer_row(uow, "GHOST")
        raise RuntimeError("boom")
    assert count(store, "customer") == 0
    transact(store, lambda uow: _customer_row(uow, "REAL"))  # the writer is free again
    assert count(store, "customer") == 1


def test_a_committed_unit_of_work_keeps_its_row(store: Store) -> None:
    with UnitOfWork(store, write=True) as uow:
        _customer_row(uow, "KEPT")
        uow.commit()
    assert count(store, "customer") == 1


def test_a_read_only_session_keeps_nothing_it_wrote(store: Store) -> None:
    with read_only(store) as uow:
        _customer_row(uow, "GHOST")
    assert count(store, "customer") == 0


# --- optimistic concurrency ------------------------------------------------------------------


def test_of_two_sessions_changing_one_invoice_the_later_one_fails_instead_of_overwriting(
    store: Store, service: Collections
) -> None:
    customer = new_customer(service)
    inv = new_invoice(service, customer, "INV-1", 10_000)
    has_read, other_committed = threading.Event(), threading.Event()
    outcome: list[BaseException | str] = []

    def slow_writer() -> None:
        try:
            with UnitOfWork(store) as uow:
                row = uow.Invoice[inv]
                seen = row.open_amount
                has_read.set()
                other_committed.wait(30)
                row.open_amount = seen - 100
                row.version += 1
                uow.commit()
            outcome.append("committed")
        except OptimisticCheckError as exc:
            outcome.append(exc)
        finally:
            store.disconnect()

    t = threading.Thread(target=slow_writer)
    t.start()
    assert has_read.wait(30)
    lower_open_amount(store, inv, 300)
    other_committed.set()
    t.join()
    assert len(outcome) == 1 and isinstance(outcome[0], OptimisticCheckError)
    assert open_amount(store, inv) == 10_000 - 300


def test_transact_retries_a_lost_race_on_fresh_data_so_both_changes_count(store: Store, service: Collections) -> None:
    customer = new_customer(service)
    inv = new_invoice(service, customer, "INV-1", 10_000)
    seen: list[int] = []

    def work(uow: UnitOfWork) -> int:
        row = uow.Invoice[inv]
        seen.append(row.open_amount)
        if len(seen) == 1:  # another session wins the race after we read
            in_thread(store, lambda: lower_open_amount(store, inv, 300))
        row.open_amount -= 100
        row.version += 1
        return int(row.open_amount)

    assert transact(store, work) == 10_000 - 400
    assert seen == [10_000, 10_000 - 300]
    assert open_amount(store, inv) == 10_000 - 400


def test_transact_gives_up_with_a_conflict_when_it_loses_every_race(store: Store, service: Collections) -> None:
    customer = new_customer(service)
    inv = new_invoice(service, customer, "INV-1", 10_000)
    attempts: list[int] = []

    def work(uow: UnitOfWork) -> None:
        row = uow.Invoice[inv]
        attempts.append(row.open_amount)
        in_thread(store, lambda: lower_open_amount(store, inv, 1))
        row.open_amount -= 1_000
        row.version += 1

    with pytest.raises(Conflict, match="a concurrent change won 3 times") as caught:
        transact(store, work, retries=2)
    assert caught.value.code == "CONFLICT"
    assert attempts == [10_000, 9_999, 9_998]
    assert open_amount(store, inv) == 10_000 - 3


def test_a_duplicate_key_that_persists_is_raised_as_itself_after_one_retry(store: Store, service: Collections) -> None:
    customer = new_customer(service)
    pay(service, customer, "P-1", amount=700)
    attempts: list[int] = []

    def record_again(uow: UnitOfWork) -> None:  # no check first: a bug, not a race
        attempts.append(1)
        owner = uow.Customer[customer]
        uow.Payment(customer=owner, reference="P-1", received_on=ISSUED, currency="EUR", amount=900, created_at=NOW)

    with pytest.raises(TransactionIntegrityError):
        transact(store, record_again)
    assert len(attempts) == 2


# SQLite serializes a process's writers, so this race exists on PostgreSQL only.
@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_payment_reference_taken_by_a_concurrent_commit_is_refused_as_a_duplicate_not_an_integrity_error(
    store: Store, service: Collections
) -> None:
    customer = new_customer(service)
    attempts: list[int] = []

    def record(uow: UnitOfWork) -> None:
        """The same check-then-insert as `apply_payment`, losing the race on its first attempt."""
        owner = uow.Customer[customer]
        attempts.append(len(attempts) + 1)
        if uow.Payment.get(customer=owner, reference="P-RACE") is not None:
            raise ValidationFailed("payment 'P-RACE' was already recorded for this customer", "reference")
        if len(attempts) == 1:  # another clerk records the same reference after our check
            in_thread(store, lambda: pay(service, customer, "P-RACE", amount=700))
        uow.Payment(customer=owner, reference="P-RACE", received_on=ISSUED, currency="EUR", amount=900, created_at=NOW)

    with pytest.raises(ValidationFailed, match="already recorded"):
        transact(store, record)
    assert attempts == [1, 2]
    with read_only(store) as uow:
        assert [p.amount for p in uow.Payment.select()] == [700]


def test_two_threads_applying_payments_to_one_invoice_at_once_end_with_the_exact_sum(
    store: Store, service: Collections
) -> None:
    threads, payments_each, cents = 2, 25, 37
    total = threads * payments_each * cents
    customer = new_customer(service)
    inv = new_invoice(service, customer, "INV-RACE", total)
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def payer(n: int) -> None:
        try:
            start.wait(30)
            for k in range(payments_each):
                cmd = RecordPayment(
                    customer, f"P-{n}-{k}", cents, "EUR", ISSUED, (AllocationLine(cents, invoice_id=inv),)
                )
                while True:  # a Conflict tells the caller to retry with fresh data
                    try:
                        service.apply_payment(cmd, BANK)
                        break
                    except Conflict:
                        continue
        except BaseException as exc:
            failures.append(exc)
        finally:
            store.disconnect()

    workers = [threading.Thread(target=payer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    with read_only(store) as uow:
        row = uow.Invoice[inv]
        allocations = [a.amount for a in row.allocations]
        assert (row.open_amount, row.state) == (0, "paid")
        assert len(allocations) == threads * payments_each
        assert sum(allocations) == total
        assert sum(p.unapplied_amount for p in uow.Payment.select()) == 0
        assert uow.Customer[customer].unapplied_credit == 0
        pays = uow.TransitionRecord.select(lambda t: t.entity_id == inv and t.trigger == "pay")
        assert pays.count() == 1


# --- atomic commands -------------------------------------------------------------------------


def test_a_failed_payment_leaves_no_payment_allocation_history_or_outbox_row(
    store: Store, service: Collections
) -> None:
    customer = new_customer(service)
    paid = new_invoice(service, customer, "INV-PAID", 500)
    still_open = new_invoice(service, customer, "INV-OPEN", 800)
    pay(service, customer, "P-1", (paid, 500))
    before = counts(store)
    # the first line would pay INV-OPEN in full (a transition with history and outbox) before
    # the second line, to a paid invoice, fails: none of it may remain
    with pytest.raises(ValidationFailed, match="INV-PAID is paid and takes no payment"):
        pay(service, customer, "P-2", (still_open, 800), (paid, 100))
    assert counts(store) == before
    with read_only(store) as uow:
        row = uow.Invoice[still_open]
        assert (row.state, row.open_amount, row.version) == ("open", 800, 1)
        assert uow.Payment.get(reference="P-2") is None
    pay(service, customer, "P-2", (still_open, 800))  # the same reference is free to use
    assert open_amount(store, still_open) == 0
