"""`o2c import customers|invoices|payments|contacts FILE.csv` — all rows or none (docs/import.md);
`o2c import statement FILE` — a bank statement (docs/cash-application.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from api.commands.statement import import_statement
from engine.bootstrap import build_context
from engine.cashapp.formats import FORMATS
from engine.importer import KINDS, count_lines, import_file

PROGRESS_FROM_LINES = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import customers, invoices, payments or contacts from CSV (all rows or none)",
        description="Every row is checked first; if any is bad, each is reported as FILE:LINE: message "
        "and nothing is written. Columns: docs/import.md.",
    )
    p.add_argument("kind", choices=(*KINDS, "statement"), help="statement: a bank statement (cash application)")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on large files")
    p.add_argument("--format", choices=FORMATS, help="statement only: the format (detected when omitted)")
    p.add_argument("--json", action="store_true", help="statement only: the summary as JSON on the last line")
    p.set_defaults(run=_import)


def _import(args: argparse.Namespace) -> int:
    if args.kind == "statement":
        return import_statement(args)
    path: Path = args.file
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 1
    ctx = build_context()
    lines = count_lines(path)
    bar = tqdm(
        total=max(lines - 1, 0),
        desc=f"checking {path.name}",
        unit="row",
        file=sys.stderr,
        disable=args.no_progress or lines < PROGRESS_FROM_LINES,
        leave=False,
    )
    try:
        result = import_file(ctx.store, args.kind, path, ctx.now(), ctx.today(), progress=bar.update)
    finally:
        bar.close()
    if not result.ok:
        for line in result.report(str(args.file)):
            print(line, file=sys.stderr)
        print(f"o2c: nothing imported: {len(result.problems)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    written = ", ".join(f"{k} {v}" for k, v in result.written.items())
    print(f"imported {args.kind} from {args.file}: {written}")
    return 0
