"""BAI2 read with the `bai2` package (record counts and control totals checked). Credits are the
type codes the library classifies as credit; the bank reference is record 16's bank reference."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from bai2 import bai2

from engine.cashapp.formats.entry import CREDIT, DEBIT, StatementEntry, StatementError, entry
from states.money import CURRENCY_EXPONENTS


class _Counted:
    """The lines handed to the library, counting how far it read (for FILE:LINE on errors)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.read = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.read += 1
            yield line


def parse(text: str) -> list[StatementEntry]:
    lines = _Counted([ln for ln in text.splitlines()])
    try:
        parsed = bai2.parse_from_lines(lines, check_integrity=True)
    except Exception as exc:  # the library raises its own exceptions, and IndexError on short records
        raise StatementError(
            f"line {max(lines.read - 1, 1)}",
            f"not a valid BAI2 file ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})",
        ) from None
    out: list[StatementEntry] = []
    for group in parsed.children:
        day = group.header.as_of_date
        for account in group.children:
            currency = account.header.currency or group.header.currency or "USD"
            stmt = f"{group.header.originator_id}/{account.header.customer_account_number}/{day}"
            for no, tx in enumerate(account.children, 1):
                line = f"line {_line_of(lines.lines, tx.rows[0][1]) if tx.rows else 0}"
                exp = CURRENCY_EXPONENTS.get(str(currency).upper(), 2)
                out.append(
                    entry(
                        line,
                        bank_ref=str(tx.bank_reference or tx.customer_reference or f"{stmt}/{no}"),
                        statement=stmt,
                        direction=CREDIT if tx.type_code.transaction.value == "credit" else DEBIT,
                        booked_on=day,
                        currency=str(currency),
                        amount=Decimal(int(tx.amount or 0)).scaleb(-exp),
                        remittance=str(tx.text or ""),
                    )
                )
    return out


def _line_of(lines: list[str], record_rest: str) -> int:
    for n, raw in enumerate(lines, 1):
        if raw.startswith("16,") and raw[3:].startswith(record_rest[:40]):
            return n
    return 0
