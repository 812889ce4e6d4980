"""Files given to the `o2c` commands that read them — a contacts CSV, a strategy file, a template, a
policy file —
holding a NUL (U+0000): the command prints where (`FILE:LINE`, with the column for YAML), never the
character itself and never a traceback, exits non-zero and writes nothing; the import on SQLite and
PostgreSQL alike (PostgreSQL refuses NUL in text, SQLite would store it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_import import count, run, write

from engine.services.context import Context

pytestmark = pytest.mark.slow

O2C = str(Path(sys.executable).parent / "o2c")
ROOT = Path(__file__).resolve().parents[2]


def o2c(*args: str, database_url: str | None = None, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "O2C_TODAY": "2026-03-02", **settings}
    if database_url is not None:
        env["O2C_DATABASE_URL"] = database_url
    done = subprocess.run([O2C, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr and "\x00" not in done.stdout + done.stderr, done
    return done


def test_a_contacts_file_with_a_nul_is_refused_at_its_line_and_nothing_is_written(
    ctx: Context, database_url: str, tmp_path: Path
) -> None:
    customers = "external_ref,name,segment,currency,credit_limit\nC1,Acme GmbH,enterprise,EUR,50000.00\n"
    assert run(ctx, "customers", write(tmp_path, "customers.csv", customers)).ok
    before = count(ctx.store, "contact")
    path = write(
        tmp_path,
        "contacts.csv",
        "customer_ref,role,name,email\nC1,billing,Jane Roe,jane@acme.example\nC1,ap,Jo\x00hn,john@acme.example\n",
    )

    done = o2c("import", "contacts", str(path), "--no-progress", database_url=database_url)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{path}:3: name must not contain a NUL (U+0000) character",
        f"o2c: nothing imported: 1 problem(s) in {path}",
    ]
    assert count(ctx.store, "contact") == before


def test_strategies_check_names_the_line_and_column_of_a_nul(tmp_path: Path) -> None:
    strategies = tmp_path / "strategies"
    shutil.copytree(ROOT / "strategies", strategies)
    path = strategies / "smb-standard.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines[:3], "# a\x00b\n", *lines[3:]]), encoding="utf-8")

    checked = o2c("strategies", "check", str(strategies))
    tested = o2c("strategies", "test", str(strategies))

    assert checked.returncode == 1 and tested.returncode == 1
    located = f"{path}:4:4: a NUL (U+0000) character is not allowed in YAML"
    assert checked.stdout.splitlines()[0] == located, checked
    assert located in tested.stdout.splitlines(), tested


def test_templates_check_names_the_line_of_a_nul(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    path = templates / "reminder.email.en.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n\x00", 1), encoding="utf-8")

    done = o2c("templates", "check", str(templates), "--strategies", str(ROOT / "strategies"))

    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"{path}:2: syntax error: a NUL (U+0000) character is not allowed"]


def test_a_nul_in_a_policy_file_is_one_typed_error_line_where_it_is_read_and_nothing_is_written(
    ctx: Context, database_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(ROOT / "policy", policy)
    path = policy / "disputes.yaml"
    path.write_text("# \x00\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    statement = write(tmp_path, "statement.csv", "bank_ref,booked_on,amount,currency\nB-1,2026-03-01,10.00,EUR\n")

    done = o2c("import", "statement", str(statement), database_url=database_url, O2C_POLICY_DIR=str(policy))

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"o2c: VALIDATION_FAILED: {path}:1:3: a NUL (U+0000) character is not allowed in YAML"
    ]
    assert count(ctx.store, "bank_transaction") == 0
