"""The command line of the notices: import contacts, templates check, cycle then render, statement."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from api.cli import main as o2c
from engine.store.database import Store

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = "external_ref,name,segment,currency,credit_limit,email\nC1,Acme GmbH,smb,EUR,5000,ap@acme.example\n"
INVOICES = "customer_ref,number,issue_date,due_date,amount,currency\nC1,INV-1,2026-01-01,2026-02-20,120.00,EUR\n"


@pytest.fixture
def env(database_url: str, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_TODAY", "2026-03-02")
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(ROOT / "strategies"))
    monkeypatch.setenv("O2C_TEMPLATES_DIR", str(ROOT / "templates"))


def test_contacts_import_cycle_render_and_statement_from_the_command_line(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind, text in (("customers", CUSTOMERS), ("invoices", INVOICES)):
        (tmp_path / f"{kind}.csv").write_text(text)
        assert o2c(["import", kind, str(tmp_path / f"{kind}.csv")]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_ref,phone\nC1,+1 555\n")
    assert o2c(["import", "contacts", str(bad)]) == 1
    assert "bad.csv:2:" in capsys.readouterr().err
    good = tmp_path / "contacts.csv"
    good.write_text('customer_ref,role,name,postal_address,language\nC1,ap,Jane,"Acme GmbH\nBerlin",de\n')
    assert o2c(["import", "contacts", str(good)]) == 0
    capsys.readouterr()

    assert o2c(["cycle", "--json"]) == 0
    assert '"rendered": {"cancelled": 0, "rendered": 1, "tasks": 0}' in capsys.readouterr().out
    assert o2c(["notices", "render", "--json"]) == 0  # nothing left to render
    assert '"rendered": 0' in capsys.readouterr().out

    out = tmp_path / "c1.pdf"
    assert o2c(["statement", "C1", "--out", str(out)]) == 0
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "INV-1" in text and "Acme GmbH" in text
    assert o2c(["statement", "NOPE"]) == 2  # NOT_FOUND


def test_templates_check_exits_non_zero_with_file_and_line(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert o2c(["templates", "check"]) == 0
    copy = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", copy)
    (copy / "smb_pre_due.email.de.j2").write_text("Subject: x\n\n{{ customer.nam }}\n")
    assert o2c(["templates", "check", str(copy)]) == 1
    assert "smb_pre_due.email.de.j2:3: UndefinedError" in capsys.readouterr().out
