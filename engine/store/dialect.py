"""SQL dialect helpers for set-based writes on a raw DB-API cursor (the cycle, the importer):
`?` marks become `%s` on PostgreSQL, many rows become one statement per page, dates and times
become what Pony stores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from engine.clock import stored
from engine.store.database import Store


def sql_for(store: Store, text: str) -> str:
    return text.replace("?", "%s") if store.is_postgres else text


PG_PAGE = 1000  # rows per statement on PostgreSQL


def execute_many(store: Store, cur: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`sql` (with `?` marks) for every row. SQLite: `executemany`. PostgreSQL: psycopg2's
    `executemany` sends one statement per row (one round trip each: the 1M cycle spent most of its
    time there), so an `INSERT … VALUES (…)` becomes one statement per 1,000 rows."""
    if not rows:
        return
    if not store.is_postgres:
        cur.executemany(sql, rows)
        return
    head, found, marks = sql.partition(" VALUES ")
    if not found:
        cur.executemany(sql_for(store, sql), rows)
        return
    one = marks.replace("?", "%s")
    for start in range(0, len(rows), PG_PAGE):
        page = rows[start : start + PG_PAGE]
        cur.execute(f"{head} VALUES {','.join([one] * len(page))}", [v for row in page for v in row])


def timestamp_param(store: Store, at: datetime) -> object:
    """A moment as a query parameter: naive UTC on PostgreSQL; on SQLite the text Pony stores, always
    with microseconds (`str()` drops them when they are 0, and '…07:00:00' sorts before
    '…07:00:00.000000': a comparison at the exact second would be wrong)."""
    value = stored(at)
    return value if store.is_postgres else value.isoformat(" ", "microseconds")


def day_param(store: Store, day: date) -> object:
    """A date as a query parameter: a date on PostgreSQL, ISO text on SQLite."""
    return day if store.is_postgres else day.isoformat()


def day_number_sql(store: Store, column: str) -> str:
    """SQL for the day number (days since 1970-01-01) of a date or timestamp column."""
    if store.is_postgres:
        return f"(CAST({column} AS DATE) - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
