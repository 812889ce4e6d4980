"""CSV bank statements with a documented header (docs/cash-application.md):
`bank_ref,booked_on,amount,currency[,payer_name][,payer_iban][,remittance][,statement]`; a
negative amount is a debit. Errors name the line."""

from __future__ import annotations

import csv
import io
from datetime import date

from engine.cashapp.formats.entry import CREDIT, DEBIT, StatementEntry, StatementError, entry, refuse_control_characters

REQUIRED = ("bank_ref", "booked_on", "amount", "currency")
OPTIONAL = ("payer_name", "payer_iban", "remittance", "statement")


def parse(text: str) -> list[StatementEntry]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise StatementError(
            "line 1", f"missing column(s) {', '.join(missing)}; the header needs {', '.join(REQUIRED)}"
        )
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise StatementError("line 1", f"unknown column(s) {', '.join(unknown)}")
    out = []
    try:
        for row in reader:
            line = f"line {reader.line_num}"
            r = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if None in row:
                raise StatementError(line, "more fields than the header has")
            # As written (strip() would drop some), before any cell is read as a date or an amount.
            refuse_control_characters(line, {k.strip(): v for k, v in row.items() if k is not None})
            try:
                booked = date.fromisoformat(r["booked_on"])
            except ValueError:
                raise StatementError(line, f"booked_on '{r['booked_on']}' is not a date (YYYY-MM-DD)") from None
            raw = r["amount"]
            out.append(
                entry(
                    line,
                    bank_ref=r["bank_ref"],
                    statement=r.get("statement") or "csv",
                    direction=DEBIT if raw.startswith("-") else CREDIT,
                    booked_on=booked,
                    currency=r["currency"],
                    amount=raw.lstrip("-"),
                    payer_name=r.get("payer_name"),
                    payer_iban=r.get("payer_iban"),
                    remittance=r.get("remittance", ""),
                )
            )
    except csv.Error as exc:
        raise StatementError(f"line {reader.line_num}", str(exc)) from None
    return out
