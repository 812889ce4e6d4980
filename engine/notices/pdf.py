"""Letters and statements as PDF: the one home of fpdf2 (pure Python, no system packages).

The PDF core fonts cover Latin-1: the euro sign is written `EUR`, typographic dashes and quotes
plainly, any other character outside Latin-1 as `?` (a Unicode TTF font is a later option)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fpdf import FPDF

from engine.notices.templates import Letterhead

_PLAIN = str.maketrans(
    {"€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u202f": " "}
)


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Page(FPDF):
    def __init__(self, head: Letterhead) -> None:
        super().__init__(format="A4")
        self.head = head
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=22)
        self.set_creator("o2c-engine")

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font("Helvetica", size=7)
        lines = [self.head.company, *self.head.address, self.head.email, self.head.phone]
        self.cell(0, 4, _latin1(" | ".join(lines)), align="C")


def _write(pdf: _Page, text: str, height: float) -> None:
    """Text wrapped at words to the page width, a line per `cell`: fpdf2's `multi_cell` measures every
    prefix of a line again and costs most of a letter's time."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    font: Any = pdf.current_font
    widths: dict[str, int] = font.cw  # a core font's widths in 1/1000 of the size
    scale = pdf.font_size * 0.001  # the size in user units (mm)
    space = widths[" "] * scale
    for raw in _latin1(text).split("\n"):
        line, used = "", 0.0
        for word in raw.split(" "):
            w = sum(widths[c] for c in word) * scale
            if line and used + space + w > width:
                pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")
                line, used = word, w
            else:
                line, used = (f"{line} {word}", used + space + w) if line else (word, w)
        pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")


def _header(pdf: _Page, recipient: str, today: str) -> None:
    head = pdf.head
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 7, _latin1(head.company), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 4, _latin1(", ".join(head.address)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=10)
    for line in recipient.split("\n"):
        pdf.cell(90, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(0, 5, _latin1(today), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _table(pdf: _Page, columns: Sequence[tuple[str, float, str]], rows: Sequence[Sequence[str]]) -> None:
    pdf.set_font("Helvetica", "B", 9)
    for title, width, align in columns:
        pdf.cell(width, 6, _latin1(title), border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for row in rows:
        for (_, width, align), value in zip(columns, row, strict=True):
            pdf.cell(width, 5.5, _latin1(value), align=align)
        pdf.ln()
    pdf.ln(4)


def letter(head: Letterhead, recipient: str, ctx: dict[str, Any], subject: str, body: str) -> bytes:
    """A one-letter PDF: letterhead, address, date, subject, the text, the invoices it concerns."""
    pdf = _Page(head)
    _header(pdf, recipient, ctx["today"])
    pdf.set_font("Helvetica", "B", 11)
    _write(pdf, subject, 6)
    pdf.ln(3)
    pdf.set_font("Helvetica", size=10)
    _write(pdf, body.strip(), 5)
    return bytes(pdf.output())


def statement(head: Letterhead, recipient: str, title: str, today: str, sections: dict[str, Any]) -> bytes:
    """A customer statement: every open item, the aging, unapplied credit (texts already formatted)."""
    pdf = _Page(head)
    _header(pdf, recipient, today)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(
        pdf,
        (("Invoice", 40, "L"), ("Issued", 28, "L"), ("Due", 28, "L"), ("Days late", 20, "R"), ("Open", 54, "R")),
        sections["items"],
    )
    _table(pdf, (("Aging", 60, "L"), ("Open", 60, "R")), sections["aging"])
    pdf.set_font("Helvetica", size=10)
    for line in sections["totals"]:
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
