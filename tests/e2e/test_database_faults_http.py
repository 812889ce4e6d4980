"""The database failing under a running `o2c serve`: out of disk, read-only, unreachable. Over real
HTTP: `/readyz` answers 503 naming the fault, a mutation answers the typed `UNAVAILABLE` (or HTTP 503
where not even the key can be checked) — never a 5xx without a code nor `INTERNAL` — nothing is
half-written, and once the fault clears the same server process works again, no restart."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest
from fuzz_support import seed_demo
from server_process import Server, row_counts, running_server

from engine.bootstrap import build_context
from engine.clock import clock_for_date
from engine.config import Settings
from engine.keys import create_key

pytestmark = pytest.mark.slow

QUIET = {"O2C_SCHEDULER": "0", "O2C_DEMO_KEY": ""}  # no background writes between the counts
TABLES = ("customer", "invoice", "transition_history", "outbox", "api_key")
CREATE = (
    'mutation($ref: String!) { createCustomer(input: {externalRef: $ref, name: "Fault Test", segment: "smb",'
    ' currency: "EUR", creditLimit: "10.00"}) { id externalRef } }'
)


def _admin_key(url: str) -> str:
    ctx = build_context(Settings(database_url=url), clock=clock_for_date(date(2026, 3, 2)))
    try:
        return create_key(ctx, "admin", "faults")[1]
    finally:
        ctx.store.disconnect()


def _rows(url: str) -> dict[str, int]:
    return row_counts(url, TABLES)


def _ready(server: Server) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{server.url}/readyz", timeout=30)
    return response.status_code, response.json()


def _create(server: Server, key: str, ref: str) -> tuple[int, dict[str, Any]]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": CREATE, "variables": {"ref": ref}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    return response.status_code, response.json()


def _assert_unavailable(status: int, body: dict[str, Any], why: str) -> None:
    """HTTP 200 with the typed error, or 503 where no GraphQL result can be formed: both typed."""
    assert status in (200, 503), (status, body)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE", body
    assert why in error["message"] and "Traceback" not in error["message"]
    assert body.get("data") in (None, {"createCustomer": None})


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path}/o2c.sqlite"
    seed_demo(url)
    return url, _admin_key(url)


def test_a_full_disk_is_unavailable_over_http_and_writes_nothing(seeded: tuple[str, str]) -> None:
    """The page cap of the URL (SQLite's own SQLITE_FULL, "database or disk is full") stands in for
    a full file system: a tmpfs or loop device that really fills needs mounts this box does not give."""
    url, key = seeded
    path = url[len("sqlite:///") :]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM")  # no free page left inside the file: the next new page fails
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with running_server(f"{url}?max_page_count={pages}", extra_env=QUIET) as server:
        # The file may not grow, but its pages have room left: the disk fills as clerks work on.
        for n in range(500):
            before = _rows(url)
            status, body = _create(server, key, f"FULL-{n}")
            if "errors" in body:
                break
        _assert_unavailable(status, body, "disk is full")
        assert _rows(url) == before  # the customer, its history and its event: none of them
        status, ready = _ready(server)
        assert (status, ready["status"], ready["database"]) == (503, "unavailable", "disk full")
        _assert_unavailable(*_create(server, key, f"FULL-{n}"), "disk is full")
        assert _rows(url) == before
        read = server.graphql("{ customers { totalCount } }", key=key)
        assert read["data"]["customers"]["totalCount"] == before["customer"]  # reads still work


@pytest.fixture
def immutable(seeded: tuple[str, str]) -> Iterator[tuple[str, str, list[Path]]]:
    """Read-only as root: `chattr +i` (chmod does not stop root) on the file, its WAL and the folder."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    url, key = seeded
    frozen: list[Path] = []
    yield url, key, frozen
    for target in reversed(frozen):
        subprocess.run(["chattr", "-i", str(target)], check=False)


def _freeze(path: Path, frozen: list[Path]) -> None:
    # never the -shm file: SQLite maps it into memory, and an immutable mapping is a SIGBUS
    for target in (path, path.with_name(path.name + "-wal"), path.parent):
        if target.exists():
            done = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"chattr +i refused here: {done.stderr.strip()}")
            frozen.append(target)


def _thaw(frozen: list[Path]) -> None:
    while frozen:
        subprocess.run(["chattr", "-i", str(frozen.pop())], check=True)


def test_a_read_only_sqlite_file_is_unavailable_and_the_same_server_writes_again_once_it_is_writable(
    immutable: tuple[str, str, list[Path]],
) -> None:
    url, key, frozen = immutable
    path = Path(url[len("sqlite:///") :])
    with running_server(url, extra_env=QUIET) as server:
        assert _create(server, key, "RO-0")[0] == 200  # the threads hold writable connections
        before = _rows(url)
        _freeze(path, frozen)

        status, ready = _ready(server)
        assert (status, ready["database"]) == (503, "read-only")
        for n in range(3):  # whichever thread (and connection) serves the request
            _assert_unavailable(*_create(server, key, f"RO-{n + 1}"), "database")
        assert _rows(url) == before

        _thaw(frozen)
        status, ready = _ready(server)
        assert (status, ready["database"]) == (200, "ok")
        for n in range(3):
            status, body = _create(server, key, f"RO-{n + 1}")
            assert status == 200 and "errors" not in body, body
        assert _rows(url)["customer"] == before["customer"] + 3


def _pg_admin(url: str) -> Any:
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    return admin


def _pg(url: str, *statements: str) -> None:
    """Run ALTER DATABASE statements (`{db}` is the test database), then cut every session of it,
    so that the server's next connections see the change (as after a failover)."""
    name = url.rsplit("/", 1)[1]
    with contextlib.closing(_pg_admin(url)) as admin, admin.cursor() as cur:
        for statement in statements:
            cur.execute(statement.format(db=f'"{name}"'))
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


@pytest.fixture
def pg_seeded(pg_database: str) -> Iterator[tuple[str, str]]:
    key = _admin_key(pg_database)
    try:
        yield pg_database, key
    finally:
        _pg(
            pg_database,
            "ALTER DATABASE {db} RESET default_transaction_read_only",
            "ALTER DATABASE {db} ALLOW_CONNECTIONS true",
        )


@pytest.mark.postgres
def test_a_read_only_postgresql_is_unavailable_and_the_same_server_writes_again_once_writes_are_allowed(
    pg_seeded: tuple[str, str],
) -> None:
    url, key = pg_seeded
    with running_server(url, extra_env=QUIET) as server:
        assert _create(server, key, "PGRO-0")[0] == 200
        before = _rows(url)
        _pg(url, "ALTER DATABASE {db} SET default_transaction_read_only = on")

        status, ready = _ready(server)
        assert (status, ready["database"]) == (503, "read-only")
        for n in range(3):
            _assert_unavailable(*_create(server, key, f"PGRO-{n + 1}"), "read-only")
        assert _rows(url) == before

        # writes allowed again; the server's sessions opened meanwhile still carry the old default
        name = url.rsplit("/", 1)[1]
        with contextlib.closing(_pg_admin(url)) as admin, admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        status, ready = _ready(server)
        assert (status, ready["database"]) == (200, "ok")
        for n in range(3):
            status, body = _create(server, key, f"PGRO-{n + 1}")
            assert status == 200 and "errors" not in body, body
        assert _rows(url)["customer"] == before["customer"] + 3


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_unavailable_and_the_same_server_works_again_once_it_is_back(
    pg_seeded: tuple[str, str],
) -> None:
    url, key = pg_seeded
    with running_server(url, extra_env=QUIET) as server:
        assert _create(server, key, "GONE-0")[0] == 200
        before = _rows(url)
        _pg(url, "ALTER DATABASE {db} ALLOW_CONNECTIONS false")  # refuses every new session

        status, ready = _ready(server)
        assert (status, ready["database"]) == (503, "unreachable")
        assert "connect" in ready["detail"]
        for n in range(3):
            _assert_unavailable(*_create(server, key, f"GONE-{n + 1}"), "connect")

        _pg(url, "ALTER DATABASE {db} ALLOW_CONNECTIONS true")
        assert _rows(url) == before
        status, ready = _ready(server)
        assert (status, ready["database"]) == (200, "ok")
        for n in range(3):
            status, body = _create(server, key, f"GONE-{n + 1}")
            assert status == 200 and "errors" not in body, body
        assert _rows(url)["customer"] == before["customer"] + 3
