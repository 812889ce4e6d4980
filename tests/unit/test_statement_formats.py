"""Bank statement parsers: real files of each format, format detection, and located errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.cashapp.formats import StatementError, detect_format, parse_statement

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "statements"


def read(name: str) -> str:
    return (FILES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["camt053-001.02.xml", "camt053-001.08.xml"])
def test_camt053_versions_02_and_08_give_the_payer_the_iban_and_the_remittance(name: str) -> None:
    fmt, (credit, debit) = parse_statement(read(name))
    assert fmt == "camt053"
    assert (credit.bank_ref, credit.direction, credit.amount, credit.currency) == ("REF-0001", "credit", 50_000, "EUR")
    assert (credit.payer_name, credit.payer_iban) == ("Acme GmbH", "DE44500105175407324931")
    assert credit.remittance == "Invoice INV-2026-000123"
    assert credit.booked_on == date(2026, 12, 1)
    assert (debit.direction, debit.amount) == ("debit", 1_200)


def test_mt940_reads_the_structured_86_field_into_name_iban_and_purpose() -> None:
    fmt, (credit, debit) = parse_statement(read("statement.mt940"))
    assert fmt == "mt940"
    assert (credit.bank_ref, credit.amount, credit.payer_name, credit.payer_iban) == (
        "BANKREF1", 50_000, "ACME GMBH", "DE44500105175407324931",
    )  # fmt: skip
    assert credit.remittance == "INV-2026-000123 thank you"
    assert (debit.direction, debit.amount, debit.location) == ("debit", 5_000, "line 7")


def test_bai2_credits_and_debits_follow_the_type_codes() -> None:
    fmt, (credit, debit) = parse_statement(read("statement.bai2"))
    assert fmt == "bai2"
    assert (credit.bank_ref, credit.direction, credit.amount, credit.currency) == ("BREF001", "credit", 50_000, "USD")
    assert credit.remittance == "ACME INC INV-2026-000123"
    assert debit.direction == "debit"


def test_csv_with_the_documented_header_and_a_negative_amount_as_a_debit() -> None:
    text = (
        "bank_ref,booked_on,amount,currency,payer_name,remittance\n"
        "A,2026-12-01,10.50,EUR,X,inv 1\nB,2026-12-01,-2.00,EUR,,fee\n"
    )
    fmt, (a, b) = parse_statement(text)
    assert fmt == "csv"
    assert (a.amount, a.direction, b.amount, b.direction) == (1_050, "credit", 200, "debit")


@pytest.mark.parametrize(
    "text, fmt",
    [("<?xml version='1.0'?><Document/>", "camt053"), ("01,BANK,CUST,261201/", "bai2"), (":20:X\n:25:Y\n", "mt940"),
     ("bank_ref,booked_on,amount,currency\n", "csv")],
)  # fmt: skip
def test_the_format_is_detected_from_the_text(text: str, fmt: str) -> None:
    assert detect_format(text) == fmt


def test_a_bad_camt_amount_names_the_element_path() -> None:
    text = read("camt053-001.08.xml").replace(">500.00<", ">5.0.0<")
    with pytest.raises(StatementError) as err:
        parse_statement(text)
    assert err.value.location == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt"


def test_xml_with_an_entity_expansion_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><Document>&b;</Document>'
    with pytest.raises(StatementError, match="refused"):
        parse_statement(bomb, "camt053")


def test_a_bad_mt940_entry_names_its_line() -> None:
    text = read("statement.mt940").replace(":61:2612021202D50,00", ":61:ZZZZ")
    with pytest.raises(StatementError) as err:
        parse_statement(text)
    assert err.value.location == "line 7"


def test_a_bai2_file_whose_counts_do_not_add_up_is_refused() -> None:
    text = read("statement.bai2").replace("49,152500,5/", "49,152500,4/")
    with pytest.raises(StatementError, match="not a valid BAI2 file"):
        parse_statement(text)


@pytest.mark.parametrize(
    "row, message",
    [("A,2026-12-01,1e3,EUR", "not a decimal"), ("A,2026-12-01,1.001,EUR", "decimals"),
     ("A,2026-12-01,1,XXX", "currency"), (",2026-12-01,1,EUR", "no bank reference"), ("A,2026-12-01,0,EUR", "zero")],
)  # fmt: skip
def test_bad_csv_rows_name_their_line(row: str, message: str) -> None:
    with pytest.raises(StatementError, match=message) as err:
        parse_statement("bank_ref,booked_on,amount,currency\nOK,2026-12-01,1,EUR\n" + row + "\n")
    assert err.value.location == "line 3"


def test_a_camt054_notification_is_read_like_a_statement() -> None:
    text = (
        read("camt053-001.08.xml")
        .replace("camt.053.001.08", "camt.054.001.08")
        .replace("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn")
        .replace("<Stmt>", "<Ntfctn>")
        .replace("</Stmt>", "</Ntfctn>")
    )
    _fmt, (credit, _debit) = parse_statement(text)
    assert (credit.bank_ref, credit.payer_name, credit.amount) == ("REF-0001", "Acme GmbH", 50_000)


def test_a_batch_entry_gives_one_transaction_per_detail_with_its_own_amount() -> None:
    one = (
        "<TxDtls><Refs><EndToEndId>E2E-{n}</EndToEndId></Refs><Amt Ccy='EUR'>{a}</Amt>"
        "<RmtInf><Ustrd>INV-{n}</Ustrd></RmtInf></TxDtls>"
    )
    details = one.format(n=1, a="100.00") + one.format(n=2, a="50.00")
    source = read("camt053-001.02.xml")
    start, end = source.index("<NtryDtls>"), source.index("</NtryDtls>")
    text = source[:start] + "<NtryDtls>" + details + source[end:]
    _fmt, entries = parse_statement(text)
    credits = [(e.bank_ref, e.amount, e.remittance) for e in entries if e.direction == "credit"]
    assert credits == [("E2E-1", 10_000, "INV-1"), ("E2E-2", 5_000, "INV-2")]


@pytest.mark.parametrize(
    "name, old, new, location, message",
    [("statement.mt940", "thank you", "thank\x00you", "line 5", "remittance must not contain a NUL (U+0000) character"),
     ("statement.mt940", "ACME GMBH", "ACME\x1bGMBH", "line 5",
      "payer_name must not contain the control character U+001B"),
     ("statement.mt940", "BANKREF1", "BANK\x00REF1", "line 5", "bank_ref must not contain a NUL (U+0000) character"),
     ("statement.bai2", "ACME INC", "ACME\x00INC", "line 4", "remittance must not contain a NUL (U+0000) character"),
     ("camt053-001.08.xml", "Acme GmbH", "Acme&#0;GmbH", "line 11",
      "not well-formed XML (reference to invalid character")],
    ids=["mt940 remittance", "mt940 payer name", "mt940 reference", "bai2 text", "camt053 character reference"],
)  # fmt: skip
def test_a_control_character_in_an_entry_names_its_line_and_field(
    name: str, old: str, new: str, location: str, message: str
) -> None:
    with pytest.raises(StatementError) as err:
        parse_statement(read(name).replace(old, new))
    assert (err.value.location, err.value.detail[: len(message)]) == (location, message)


def test_a_message_quoting_the_file_shows_control_characters_as_escapes() -> None:
    with pytest.raises(StatementError) as err:
        parse_statement("bank_ref,booked_on,amount,currency,note\x00\nA,2026-12-01,1,EUR,x\n")
    assert err.value.detail == "unknown column(s) note\\x00"
