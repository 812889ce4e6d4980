"""Shared fixtures: real databases (a SQLite file and a PostgreSQL database per session)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg2
import pytest
from event_contract import contract_breaches
from services_support import Journal

from engine.clock import FixedClock, clock_for_date
from engine.commands import CreateCustomer
from engine.config import Settings
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store, data_tables
from engine.store.upgrades import upgrade

PG_ADMIN_DSN = os.environ.get("O2C_TEST_PG_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_HOST_URL = os.environ.get("O2C_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")
TODAY = date(2026, 3, 2)  # a Monday
TABLES = data_tables()  # the code's list (engine/store/models.py), not a copy


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=3)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (parallel runs do not collide)."""
    name = f"o2c_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        conn = _admin()
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_HOST_URL}/{name}"
    store = Store(url)
    upgrade(store)
    store.disconnect()
    yield url
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _truncate(url: str) -> None:
    dsn = url.replace("postgresql://", "postgresql://", 1)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    conn.close()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied before and after the test."""
    _truncate(pg_database)
    yield pg_database
    _truncate(pg_database)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """Every store test runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/o2c.sqlite"
    url: str = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store at the latest schema; after the test, every event it wrote must match its schema."""
    s = Store(database_url)
    upgrade(s)
    yield s
    try:
        breaches = contract_breaches(s)
    finally:
        s.disconnect()
    assert not breaches, f"events that break their catalogue schema: {breaches}"


@pytest.fixture
def clock() -> FixedClock:
    return clock_for_date(TODAY)


@pytest.fixture
def ctx(store: Store, clock: FixedClock, database_url: str) -> Context:
    return Context(store=store, clock=clock, settings=Settings(database_url=database_url))


@pytest.fixture
def service(ctx: Context) -> Collections:
    return Collections(ctx)


# The service-layer tests (tests/integration/services/): what they wrote since a mark, and a customer.
@pytest.fixture
def journal(store: Store) -> Journal:
    return Journal(store)


@pytest.fixture
def customer(service: Collections) -> int:
    """Acme, a EUR customer."""
    cmd = CreateCustomer(external_ref="C-1", name="Acme", segment="smb", currency="EUR", credit_limit=1_000_000)
    return service.create_customer(cmd).id
