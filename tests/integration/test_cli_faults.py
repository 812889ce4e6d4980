"""Every `o2c` command against a database that is unreachable or read-only: a command that needs the
database prints exactly one line, `o2c: UNAVAILABLE: <the problem>`, and exits non-zero — never a
traceback. The commands are read from the CLI's own parser, so a new command fails here until it
says what it needs (`COMMANDS`)."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg2
import pytest

from api.cli import build_parser, main
from engine.bootstrap import build_context
from engine.clock import clock_for_date
from engine.config import Settings
from engine.demo import load_demo
from engine.service import Collections
from engine.store.database import data_tables

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"
ROOT = Path(__file__).resolve().parents[2]

# Each command's arguments; None: it reads files only, never the database.
COMMANDS: dict[str, list[str] | None] = {
    "db upgrade": [],
    "db version": [],
    "states diagram": None,
    "serve": ["--port", "0"],
    "demo": ["--customers", "3", "--invoices", "5"],
    "import": ["customers", "{customers_csv}"],
    "strategies check": None,
    "strategies test": None,
    "strategies diff": [str(ROOT / "strategies")],
    "strategies experiment": ["smb-standard"],
    "cycle": ["--as-of", "2026-03-02"],
    "keys create": ["--role", "admin"],
    "keys list": [],
    "keys revoke": ["o2c_00000000"],
    "worker": [],
    "risk score": [],
    "dispatch": ["--once"],
    "events prune": [],
    "predict train": [],
    "predict score": [],
    "predict show": ["1"],
    "forecast": ["--currency", "EUR"],
    "ecl": ["--currency", "EUR"],
    "kpis snapshot": [],
    "templates check": None,
    "notices render": [],
    "notices send": ["--once"],
    "statement": ["C1", "--out", "{tmp}/statement.pdf"],
    "simulate": ["--days", "1"],
    "webhooks list": [],
}
# Long-running: against a read-only database they start and keep serving (readiness says why).
LONG_RUNNING = {"serve", "worker"}
# Against a read-only database these must write, so they fail; the others may succeed by reading.
WRITERS = {"import", "cycle", "keys create", "risk score", "kpis snapshot", "predict train"}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path)
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def test_every_cli_command_says_whether_it_needs_the_database() -> None:
    assert set(_leaves(build_parser())) == set(COMMANDS)


def _argv(command: str, tmp_path: Path) -> list[str]:
    customers = tmp_path / "customers.csv"
    customers.write_text("external_ref,name,segment,currency,credit_limit\nCLI-1,Cli,smb,EUR,100.00\n")
    args = COMMANDS[command] or []
    return [*command.split(), *(a.format(customers_csv=customers, tmp=tmp_path) for a in args)]


def _run(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse, or a command that exits itself
        code = int(exit_.code or 0)
    return code, capfd.readouterr().err


def _assert_one_unavailable_line(command: str, code: int, err: str, why: str) -> None:
    assert code != 0, f"{command}: exit 0 with {err!r}"
    assert "Traceback" not in err, f"{command}: {err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("o2c: UNAVAILABLE: ") and why in lines[0], f"{command}: {err}"


@pytest.mark.parametrize("command", [c for c, a in COMMANDS.items() if a is not None])
def test_a_command_against_an_unreachable_database_prints_one_line_and_exits_non_zero(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", UNREACHABLE)
    code, err = _run(_argv(command, tmp_path), capfd)
    _assert_one_unavailable_line(command, code, err, "cannot connect")


def _seed(url: str) -> None:
    ctx = build_context(Settings(database_url=url), clock=clock_for_date(date(2026, 3, 2)))
    try:
        load_demo(Collections(ctx), customers=4, invoices=12)
    finally:
        ctx.store.disconnect()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def read_only_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A seeded database made read-only: on SQLite `chattr +i` on the file (the tests run as root,
    whom chmod does not stop); on PostgreSQL `default_transaction_read_only`."""
    if request.param == "sqlite":
        if shutil.which("chattr") is None:
            pytest.skip("chattr is not installed")
        folder = tmp_path_factory.mktemp("read-only")
        path = folder / "o2c.sqlite"
        _seed(f"sqlite:///{path}")
        frozen = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        done = subprocess.run(["chattr", "+i", *map(str, frozen)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i refused here: {done.stderr.strip()}")
        try:
            yield f"sqlite:///{path}"
        finally:
            subprocess.run(["chattr", "-i", *map(str, frozen)], check=True)
        return
    url: str = request.getfixturevalue("pg_database")
    name = url.rsplit("/", 1)[1]
    with contextlib.closing(psycopg2.connect(url)) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"TRUNCATE {', '.join(data_tables())} RESTART IDENTITY CASCADE")
        _seed(url)
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        try:
            yield url
        finally:
            with admin.cursor() as cur:
                cur.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


def test_commands_against_a_read_only_database_read_or_print_one_unavailable_line(
    read_only_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", read_only_url)
    monkeypatch.setenv("O2C_TODAY", "2026-03-02")
    monkeypatch.chdir(tmp_path)  # files a command writes land here; the ones it reads are the project's
    for name, folder in (("STRATEGIES_DIR", "strategies"), ("TEMPLATES_DIR", "templates"), ("POLICY_DIR", "policy")):
        monkeypatch.setenv(f"O2C_{name}", str(ROOT / folder))
    monkeypatch.setenv("O2C_CASH_POLICY", str(ROOT / "policy/cash-application.yaml"))
    for command, args in COMMANDS.items():
        if args is None or command in LONG_RUNNING:
            continue
        code, err = _run(_argv(command, tmp_path), capfd)
        assert "Traceback" not in err, f"{command}: {err}"
        if command in WRITERS or (code != 0 and "UNAVAILABLE" in err):
            _assert_one_unavailable_line(command, code, err, "read-only")
        else:  # it only had to read: its own answer, or its own refusal in one typed line
            typed = len(err.strip().splitlines()) == 1 and err.startswith("o2c: ")
            assert code in (0, 1) or typed, f"{command}: {code} {err}"  # `keys revoke` of no key: 1
