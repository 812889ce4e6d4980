"""`o2c import customers|invoices|payments|contacts FILE.csv` — all rows or none (docs/import.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from engine.bootstrap import build_context
from engine.importer import KINDS, count_lines, import_file

PROGRESS_FROM_LINES = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import customers, invoices, payments or contacts from CSV (all rows or none)",
        description="Every row is checked first; if any is bad, each is reported as FILE:LINE: message "
        "and nothing is written. Columns: docs/import.md.",
    )
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on large files")
    p.set_defaults(run=_import)


def _import(args: argparse.Namespace) -> int:
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
