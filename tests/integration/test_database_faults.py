"""The database failing — unreachable, read-only — is UNAVAILABLE with one line naming the
problem, never a traceback, a bare 500, an INTERNAL or a CONFLICT showing ORM internals; a lost
race is a CONFLICT in words."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import psycopg2
import pytest

from engine.commands import CreateCustomer
from engine.config import Settings
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.faults import as_unavailable, nothing_committed
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states.errors import Conflict, Unavailable

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"


@pytest.mark.parametrize(
    "message",
    [
        'could not connect to server: Connection refused\n\tIs the server running on host "127.0.0.1"',
        "server closed the connection unexpectedly",
        "attempt to write a readonly database",
        "cannot execute INSERT in a read-only transaction",
        "database or disk is full",
    ],
)
def test_a_database_fault_reads_as_unavailable(message: str) -> None:
    found = as_unavailable(RuntimeError(message))
    assert found is not None and found.code == "UNAVAILABLE"
    assert "try again" in found.message


def test_a_lost_race_or_a_bug_is_not_mistaken_for_a_fault() -> None:
    assert as_unavailable(RuntimeError("database is locked")) is None
    assert as_unavailable(KeyError("x")) is None


@pytest.mark.slow
def test_a_cli_command_against_an_unreachable_database_prints_one_line_and_exits_non_zero() -> None:
    env = {**os.environ, "O2C_DATABASE_URL": UNREACHABLE}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("o2c: UNAVAILABLE:") and "connect" in line


@pytest.fixture
def read_only_database(pg_database: str) -> Iterator[str]:
    name = pg_database.rsplit("/", 1)[1]
    admin = psycopg2.connect(pg_database)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        yield pg_database
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        admin.close()


@pytest.mark.postgres
def test_a_write_to_a_read_only_database_is_unavailable_and_reads_still_work(read_only_database: str) -> None:
    from engine.clock import clock_for_date

    store = Store(read_only_database)
    try:
        service = Collections(Context(store, clock_for_date(date(2026, 3, 2)), Settings()))
        with pytest.raises(Unavailable, match="read-only"):
            service.create_customer(CreateCustomer("RO-1", "Read Only", "smb", "EUR", 100))
        with read_only(store) as uow:
            assert uow.Customer.get(external_ref="RO-1") is None
    finally:
        store.disconnect()


@pytest.mark.postgres
def test_after_the_database_cut_every_connection_the_next_write_works_without_a_restart(pg_database: str) -> None:
    from engine.clock import clock_for_date

    store = Store(pg_database)
    try:
        service = Collections(Context(store, clock_for_date(date(2026, 3, 2)), Settings()))
        service.create_customer(CreateCustomer("CUT-1", "Before", "smb", "EUR", 100))
        admin = psycopg2.connect(pg_database.rsplit("/", 1)[0] + "/postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            name = pg_database.rsplit("/", 1)[1]
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        admin.close()
        service.create_customer(CreateCustomer("CUT-2", "After", "smb", "EUR", 100))
        with read_only(store) as uow:
            assert uow.Customer.get(external_ref="CUT-2") is not None
    finally:
        store.disconnect()


def test_a_race_lost_every_time_is_a_conflict_in_a_sentence_without_orm_internals(store: Store, customer: int) -> None:
    """Every attempt meets a row another connection changed after this one read it (a real optimistic
    check failure, or on SQLite a stale snapshot): the CONFLICT says so in words, not in Pony's."""
    placeholder = "%s" if store.is_postgres else "?"

    def rename(uow: UnitOfWork) -> None:
        row = uow.Customer[customer]
        _ = row.name  # read: the optimistic check compares against this
        with contextlib.closing(store.side_connection()) as side:
            cursor = side.cursor()
            cursor.execute(f"UPDATE customer SET name = name || '+' WHERE id = {placeholder}", (customer,))
        row.name = "Mine"

    with pytest.raises(Conflict) as raised:
        transact(store, rename, retries=2)

    message = raised.value.message
    assert message == "a concurrent change won 3 times; try again"
    for internal in ("Customer[", "pony", "Optimistic", "locked", "UPDATE", "outside of current transaction"):
        assert internal.lower() not in message.lower()
    with read_only(store) as uow:
        assert uow.Customer[customer].name == "Acme+++"  # each attempt rolled back; the others' commits stand


@pytest.mark.parametrize(
    ("message", "again"),
    [
        ("cannot execute INSERT in a read-only transaction", True),
        ("attempt to write a readonly database", True),
        ("database or disk is full", True),
        ("terminating connection due to administrator command", True),
        ("server closed the connection unexpectedly", False),  # perhaps while the COMMIT was on its way
        ("disk I/O error", False),
        ("database is locked", False),  # not a fault: a race, retried as one
    ],
)
def test_only_work_the_database_certainly_did_not_commit_is_tried_again(message: str, again: bool) -> None:
    try:
        try:
            raise RuntimeError(message)
        except RuntimeError as driver:
            raise Unavailable("the database failed") from driver
    except Unavailable as down:
        assert nothing_committed(down) is again
    assert not nothing_committed(Unavailable("no driver error behind it"))


@pytest.mark.postgres
def test_a_scheduler_tick_while_the_database_refuses_connections_logs_one_line_without_a_traceback(
    pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    from engine.clock import clock_for_date
    from engine.scheduler import LeaderScheduler

    store = Store(pg_database)
    ctx = Context(store, clock_for_date(date(2026, 3, 2)), Settings(database_url=pg_database))
    scheduler = LeaderScheduler(ctx, lambda _d: None, lambda _d: None)
    name = pg_database.rsplit("/", 1)[1]
    admin = psycopg2.connect(pg_database.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        with caplog.at_level(logging.WARNING, logger="engine.scheduler"):
            scheduler.tick()  # never raises: the next tick retries
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
        store.disconnect()
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == "scheduler tick: cannot connect to the database; try again shortly"
