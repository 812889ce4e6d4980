"""The database URL reaches the driver whole: a PostgreSQL URL's query parameters are libpq
connection parameters (`?sslmode=require`), not dropped on the way; a SQLite URL's page cap
(`?max_page_count=`) reaches every connection."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pony.orm import db_session

from engine.config import load_settings
from engine.store.database import Store, bind_arguments
from states.errors import ValidationFailed


def test_query_parameters_of_a_postgresql_url_are_passed_to_the_driver() -> None:
    args = bind_arguments(
        load_settings(
            {"O2C_DATABASE_URL": "postgresql://app:pw@db:5433/o2c?sslmode=require&connect_timeout=5"}
        ).database_url
    )
    assert args == {
        "provider": "postgres",
        "host": "db",
        "port": 5433,
        "database": "o2c",
        "user": "app",
        "password": "pw",
        "sslmode": "require",
        "connect_timeout": "5",
    }


def test_a_query_parameter_may_not_override_the_url_itself() -> None:
    with pytest.raises(ValidationFailed, match="'host' belongs in the URL itself"):
        bind_arguments("postgresql://app@db/o2c?host=elsewhere")


@pytest.mark.postgres
def test_a_real_connection_gets_the_urls_query_parameters(pg_database: str) -> None:
    store = Store(f"{pg_database}?sslmode=disable&application_name=o2c-settings-test")
    try:
        with db_session:
            rows = store.db.select("select current_setting('application_name')")
        assert rows == ["o2c-settings-test"]
    finally:
        store.disconnect()


def test_a_sqlite_urls_page_cap_reaches_the_connection_of_every_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/capped.sqlite?max_page_count=5000"
    assert bind_arguments(url)["filename"] == str(tmp_path / "capped.sqlite")
    store = Store(url)
    try:

        def cap() -> int:
            with db_session:
                return int(store.db.execute("PRAGMA max_page_count").fetchone()[0])

        with ThreadPoolExecutor(2) as pool:  # each worker thread opens a connection of its own
            assert {pool.submit(cap).result(), pool.submit(cap).result(), cap()} == {5000}
        with contextlib.closing(store.side_connection()) as side:
            assert side.execute("PRAGMA max_page_count").fetchone()[0] == 5000
    finally:
        store.disconnect()


@pytest.mark.parametrize("query", ["journal_mode=delete", "max_page_count=0", "max_page_count=x"])
def test_a_sqlite_url_takes_only_a_positive_page_cap(query: str) -> None:
    with pytest.raises(ValidationFailed, match="database URL"):
        bind_arguments(f"sqlite:///data/o2c.sqlite?{query}")
