"""Set-based writes on the raw DB-API connection of a write `UnitOfWork` (LIBRARIES.md: Pony
inserts one object at a time): inserts use `executemany` on SQLite and `COPY … FROM STDIN` on
PostgreSQL (twice as fast as `execute_values`, which the updates use). Everything runs inside
the unit of work's transaction: nothing is committed here.

Values are adapted to what Pony itself stores, so that Pony reads bulk-written rows back
unchanged: on SQLite dates are `YYYY-MM-DD`, datetimes `YYYY-MM-DD HH:MM:SS.ffffff` and JSON
is compact text; on PostgreSQL psycopg2 adapts dates and JSON goes in as text cast to JSONB.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from engine.store.unit_of_work import UnitOfWork
from states.errors import Conflict

PAGE = 5000  # rows per statement on PostgreSQL
SQLITE_CACHE_KIB = 131072
NULL = "\\N"  # how COPY … (FORMAT csv) is told a value is NULL
# Key order does not matter to readers; skipping the sort halves the encoding time.
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def new_event_id() -> str:
    """A random (version 4) UUID as text; `uuid.uuid4()` costs several times more per row."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Bulk:
    """The raw connection of one write unit of work, with the dialect's bulk verbs."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        # Taking the connection starts the transaction (BEGIN IMMEDIATE on SQLite): every read
        # that follows sees a database no other writer can change before we commit.
        self.conn = uow.connection()
        self.postgres = uow.store.is_postgres
        self.mark = "%s" if self.postgres else "?"
        if not self.postgres:
            # Random event ids land all over the outbox's unique index; a larger page cache
            # (for this connection) keeps those B-tree pages in memory during a bulk write.
            self.conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    # -- value adapters ---------------------------------------------------------------
    def day(self, value: date | None) -> Any:
        if value is None or self.postgres:
            return value
        return value.isoformat()

    def moment(self, value: datetime | None) -> Any:
        """A naive UTC datetime (see `engine.clock.stored`)."""
        if value is None or self.postgres:
            return value
        text = value.isoformat(" ")
        return text + ".000000" if len(text) == 19 else text

    def json(self, value: object) -> str:
        return _JSON.encode(value)

    # -- reads ------------------------------------------------------------------------
    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query written with `?` placeholders (translated for PostgreSQL)."""
        cur = self.conn.cursor()
        cur.execute(self._dialect(sql), tuple(params))
        rows = [tuple(r) for r in cur.fetchall()]
        cur.close()
        return rows

    def select_in(self, sql: str, values: Iterable[Any], chunk: int = 500) -> list[tuple[Any, ...]]:
        """`sql` contains one `IN ({})`; run it for `values` in chunks and concatenate."""
        items = list(dict.fromkeys(values))
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            rows.extend(self.select(sql.format(", ".join("?" * len(part))), part))
        return rows

    # -- writes -----------------------------------------------------------------------
    def reserve_ids(self, table: str, count: int) -> list[int]:
        """Ids for `count` new rows of `table`, so that dependent rows can name them."""
        if count == 0:
            return []
        if self.postgres:
            rows = self.select(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)",
                (count,),
            )
            return [int(r[0]) for r in rows]
        top = self.select(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0]
        seq = self.select("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        first = max(int(top), int(seq[0][0]) if seq else 0) + 1
        return list(range(first, first + count))

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in columns)
        cur = self.conn.cursor()
        if self.postgres:
            # COPY is several times faster than INSERT … VALUES on both ends of the wire.
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows([NULL if v is None else v for v in row] for row in rows)
            buf.seek(0)
            cur.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buf)
        else:
            marks = ", ".join("?" * len(columns))
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        cur.close()

    def update(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        casts: dict[str, str] | None = None,
        expect_version: bool = False,
    ) -> None:
        """Each row is `(id, *values)`, or `(id, old_version, *values)` with `expect_version`,
        in which case a row whose version moved on raises `Conflict` (the transaction is then
        rolled back by the unit of work)."""
        if not rows:
            return
        casts = casts or {}
        keys = ["id", "old_version"] if expect_version else ["id"]
        cur = self.conn.cursor()
        if self.postgres:
            from psycopg2.extras import execute_values

            sets = ", ".join(f'"{c}" = v."{c}"{casts.get(c, "")}' for c in columns)
            where = f"{table}.id = v.id" + (f" AND {table}.version = v.old_version" if expect_version else "")
            alias = ", ".join(f'"{c}"' for c in (*keys, *columns))
            sql = f"UPDATE {table} SET {sets} FROM (VALUES %s) AS v({alias}) WHERE {where}"
            changed = 0
            for start in range(0, len(rows), PAGE):
                execute_values(cur, sql, rows[start : start + PAGE], page_size=PAGE)
                changed += cur.rowcount
        else:
            sets = ", ".join(f'"{c}" = ?' for c in columns)
            where = "id = ?" + (" AND version = ?" if expect_version else "")
            n = len(keys)
            cur.executemany(f"UPDATE {table} SET {sets} WHERE {where}", [(*r[n:], *r[:n]) for r in rows])
            changed = cur.rowcount
        cur.close()
        if changed != len(rows):
            raise Conflict(f"{len(rows) - changed} {table} rows changed concurrently; run it again")

    def increment(self, table: str, column: str, rows: Sequence[tuple[int, int]]) -> None:
        """Add `amount` to `column` for each `(id, amount)`."""
        if not rows:
            return
        cur = self.conn.cursor()
        if self.postgres:
            from psycopg2.extras import execute_values

            execute_values(
                cur,
                f'UPDATE {table} SET "{column}" = {table}."{column}" + v.amount '
                f"FROM (VALUES %s) AS v(id, amount) WHERE {table}.id = v.id",
                rows,
                page_size=PAGE,
            )
        else:
            cur.executemany(f'UPDATE {table} SET "{column}" = "{column}" + ? WHERE id = ?', [(a, i) for i, a in rows])
        cur.close()

    def _dialect(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql
