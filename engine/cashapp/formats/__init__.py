"""Bank statement formats. Each parser turns a file's text into `StatementEntry` values or raises
`StatementError` naming where (FILE:LINE, or the XML element path for camt) — nothing is written
before a whole file parsed. One home module per library: `camt` (defusedxml + ElementTree),
`mt940` (mt-940), `bai2` (bai2), `csvfile` (the standard library)."""

from __future__ import annotations

from engine.cashapp.formats.entry import FORMATS, StatementEntry, StatementError, detect_format


def parse_statement(text: str, fmt: str | None = None) -> tuple[str, list[StatementEntry]]:
    """(format, entries) of a statement's text; the format is detected when not given."""
    from engine.cashapp.formats import bai2file, camt, csvfile, mt940file

    chosen = fmt or detect_format(text)
    if chosen not in FORMATS:
        raise StatementError("", f"unknown statement format '{chosen}'; one of {', '.join(FORMATS)}")
    parser = {"camt053": camt.parse, "mt940": mt940file.parse, "bai2": bai2file.parse, "csv": csvfile.parse}[chosen]
    return chosen, parser(text)


__all__ = ["FORMATS", "StatementEntry", "StatementError", "detect_format", "parse_statement"]
