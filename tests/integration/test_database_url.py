"""The database URL reaches the driver whole: a PostgreSQL URL's query parameters are libpq
connection parameters (`?sslmode=require`), not dropped on the way."""

from __future__ import annotations

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
