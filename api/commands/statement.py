"""`o2c import statement FILE [--format camt053|mt940|bai2|csv] [--json]` (docs/cash-application.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.bootstrap import build_context, wire
from engine.cashapp.formats import StatementError
from engine.commands import ImportStatement
from engine.strategies_in_force import load_registry
from states.actors import Actor

MAX_BYTES = 50 * 1024 * 1024


def import_statement(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 1
    if path.stat().st_size > MAX_BYTES:
        print(f"{path}: larger than {MAX_BYTES} bytes", file=sys.stderr)
        return 1
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})", file=sys.stderr)
        return 1
    ctx = build_context()
    service = wire(ctx, load_registry(ctx.settings.strategies_dir))  # paid invoices re-evaluate, as under serve
    try:
        summary = service.handle(ImportStatement(text, args.format), Actor("import", path.name))
    except StatementError as exc:
        where = exc.location.removeprefix("line ")
        print(f"{path}:{where}: {exc.detail}" if where else f"{path}: {exc.detail}", file=sys.stderr)
        print(f"o2c: nothing imported from {path}", file=sys.stderr)
        return 1
    line = summary.as_json()
    if args.json:
        print(json.dumps(line))
    else:
        print(", ".join(f"{k} {v}" for k, v in line.items() if k != "format") + f" ({summary.format}, {path})")
    return 0
