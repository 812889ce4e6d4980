"""Read a CSV file into typed rows, keeping the physical line number of every row (the header
is line 1; a quoted field spanning lines counts every line)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.importer.columns import COLUMNS, PARSERS
from states.errors import DomainError

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass
class Parsed:
    rows: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def count_lines(path: Path) -> int:
    """A cheap upper bound of the rows, for the progress bar."""
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def read_rows(kind: str, path: Path, progress: Progress | None = None) -> Parsed:
    """Parse every row; a row that fails becomes a `Problem`, the others typed records."""
    out = Parsed()
    columns = COLUMNS[kind]
    parse = PARSERS[kind]
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            out.problems.append(Problem(1, "the file is empty; expected a header line"))
            return out
        except csv.Error as exc:
            out.problems.append(Problem(1, f"unreadable header: {exc}"))
            return out
        known = {c.name for c in columns}
        missing = [c.name for c in columns if c.required and c.name not in header]
        unknown = [h for h in header if h not in known]
        doubled = sorted({h for h in header if header.count(h) > 1})
        if missing:
            out.problems.append(Problem(1, f"missing column(s): {', '.join(missing)}"))
        if unknown:
            out.problems.append(
                Problem(1, f"unknown column(s): {', '.join(unknown)}; expected {', '.join(sorted(known))}")
            )
        if doubled:
            out.problems.append(Problem(1, f"column(s) given twice: {', '.join(doubled)}"))
        if out.problems:
            return out
        width = len(header)
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                out.problems.append(Problem(start, f"unreadable CSV: {exc}"))
                break
            if progress is not None:
                progress(reader.line_num - start + 1)
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != width:
                out.problems.append(Problem(start, f"expected {width} fields, found {len(cells)}"))
                continue
            with_nul = next((name for name, cell in zip(header, cells, strict=True) if "\x00" in cell), None)
            if with_nul is not None:  # PostgreSQL refuses it in text, SQLite would keep it: neither
                out.problems.append(Problem(start, f"{with_nul} must not contain a NUL (U+0000) character"))
                continue
            try:
                out.rows.append(parse(start, dict(zip(header, cells, strict=True))))
            except DomainError as exc:
                out.problems.append(Problem(start, exc.message))
    return out
