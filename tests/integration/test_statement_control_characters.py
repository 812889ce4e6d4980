"""A bank statement whose text holds a NUL or another control character — in a payer name, a
remittance text, a bank reference — is refused whole, naming the file, the line or element and the
field, on SQLite and PostgreSQL alike (PostgreSQL refuses NUL in text; SQLite would store it): by
the service, and by `o2c import statement` in a subprocess with an error line and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from engine.commands import CreateCustomer, IssueInvoice
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor, person
from states.errors import ValidationFailed

pytestmark = pytest.mark.slow

O2C = str(Path(sys.executable).parent / "o2c")
STATEMENTS = Path(__file__).resolve().parents[1] / "fixtures" / "statements"
HEADER = "bank_ref,booked_on,amount,currency,payer_name,payer_iban,remittance\n"
GOOD = "B-1,2026-03-01,500.00,EUR,ACME Industries,,INV-2026-000101\n"


def written(store: Store) -> tuple[int, int, int]:
    """(bank transactions, payments, events): what an import would have written."""
    with read_only(store) as uow:
        return (uow.BankTransaction.select().count(), uow.Payment.select().count(), uow.OutboxEvent.select().count())


@pytest.fixture
def invoice(service: Collections) -> int:
    acme = service.create_customer(CreateCustomer("C-1", "ACME Industries GmbH", "smb", "EUR", 10_000_000)).id
    cmd = IssueInvoice(acme, "INV-2026-000101", 50_000, "EUR", date(2026, 1, 1), date(2026, 2, 1))
    return service.issue_invoice(cmd, person("alice")).id


@pytest.mark.parametrize(
    "row, message",
    [
        ("B-2,2026-03-01,5.00,EUR,Ac\x00me,,x", "line 3: payer_name must not contain a NUL (U+0000) character"),
        ("B-2,2026-03-01,5.00,EUR,Acme,,INV\x00-1", "line 3: remittance must not contain a NUL (U+0000) character"),
        ("B\x00-2,2026-03-01,5.00,EUR,Acme,,x", "line 3: bank_ref must not contain a NUL (U+0000) character"),
        ("B-2,2026-03-01,5.00,EUR,Acme,,INV\x07-1", "line 3: remittance must not contain the control character U+0007"),
    ],
    ids=["payer name", "remittance", "bank reference", "bell"],
)
def test_a_control_character_in_any_entry_refuses_the_whole_statement_naming_line_and_field(
    store: Store, service: Collections, invoice: int, row: str, message: str
) -> None:
    before = written(store)
    with pytest.raises(ValidationFailed) as refused:
        service.import_statement(HEADER + GOOD + row + "\n", None, Actor("import", "statement"))
    assert refused.value.message == message
    assert written(store) == before  # the good entry on line 2 was not imported either
    with read_only(store) as uow:
        assert (uow.Invoice[invoice].state, uow.Invoice[invoice].open_amount) == ("open", 50_000)


def test_tabs_and_line_breaks_in_a_remittance_text_are_spaces_and_the_statement_imports(
    store: Store, service: Collections, invoice: int
) -> None:
    summary = service.import_statement(
        HEADER + 'B-1,2026-03-01,500.00,EUR,ACME\tIndustries,,"INV-2026-000101\r\nthanks"\n', None, Actor("import", "s")
    )
    assert (summary.transactions, summary.auto_applied) == (1, 1)
    with read_only(store) as uow:
        txn = uow.BankTransaction.select().first()
        assert (txn.payer_name, txn.remittance) == ("ACME Industries", "INV-2026-000101 thanks")


def _mt940_with_nul() -> str:
    return (STATEMENTS / "statement.mt940").read_text(encoding="utf-8").replace("ACME GMBH", "ACME\x00GMBH")


def _camt_with_nul() -> str:
    return (STATEMENTS / "camt053-001.08.xml").read_text(encoding="utf-8").replace("Acme GmbH", "Acme\x00GmbH")


@pytest.mark.parametrize(
    "name, text, error",
    [
        ("statement.csv", HEADER + GOOD + "B-2,2026-03-01,5.00,EUR,Acme,,INV\x00-2\n",
         "{path}:3: remittance must not contain a NUL (U+0000) character"),
        ("statement.mt940", _mt940_with_nul(), "{path}:5: payer_name must not contain a NUL (U+0000) character"),
        ("statement.xml", _camt_with_nul(),
         "{path}:11: not well-formed XML (not well-formed (invalid token): line 11, column 36)"),
    ],
    ids=["csv", "mt940", "camt053"],
)  # fmt: skip
def test_the_cli_refuses_a_statement_with_nul_in_one_error_line_exits_non_zero_and_writes_nothing(
    store: Store, database_url: str, invoice: int, tmp_path: Path, name: str, text: str, error: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    before = written(store)
    env = {**os.environ, "O2C_DATABASE_URL": database_url, "O2C_TODAY": "2026-03-02"}
    done = subprocess.run(
        [O2C, "import", "statement", str(path)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done
    assert done.stderr.splitlines() == [error.format(path=path), f"o2c: nothing imported from {path}"]
    assert "\x00" not in done.stderr and "Traceback" not in done.stderr
    assert written(store) == before
