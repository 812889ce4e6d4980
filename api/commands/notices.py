"""`o2c notices render [--json]` renders requested messages; `o2c notices send [--once] [--json]` sends
the rendered ones; `o2c statement CUSTOMER_REF [--out FILE]`
writes a customer's statement as PDF."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.bootstrap import build_context
from engine.notices.channels import adapters_from
from engine.notices.render import render_due
from engine.notices.send import send_due
from engine.notices.statement import statement_pdf
from engine.notices.templates import load
from engine.strategies_in_force import load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notices", help="customer messages: render the requested ones")
    inner = p.add_subparsers(dest="notices_command", required=True)
    r = inner.add_parser("render", help="render every requested message (outside the cycle)")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.set_defaults(run=_render)
    d = inner.add_parser("send", help="send the rendered messages through their channels")
    d.add_argument("--once", action="store_true", help="one pass over the due messages, then exit")
    d.add_argument("--json", action="store_true", help="print one JSON object per pass")
    d.add_argument("--every", type=float, default=10.0, help="seconds between passes (without --once)")
    d.set_defaults(run=_send)
    s = sub.add_parser("statement", help="a customer's statement (open items, aging, unapplied credit) as PDF")
    s.add_argument("customer_ref")
    s.add_argument("--out", type=Path, default=None, help="file to write (default: REF-statement.pdf)")
    s.set_defaults(run=_statement)


def _render(args: argparse.Namespace) -> int:
    ctx = build_context()
    outcome = render_due(ctx, load_registry(ctx.settings.strategies_dir).current)
    if outcome is None:
        print(f"o2c: no templates directory {ctx.settings.templates_dir}", file=sys.stderr)
        return 1
    report = {
        "rendered": outcome.rendered,
        "cancelled": outcome.cancelled,
        "tasks": outcome.tasks,
        "by_channel": dict(outcome.by_channel),
    }
    print(json.dumps(report, sort_keys=True) if args.json else " ".join(f"{k}={v}" for k, v in report.items()))
    return 0


def _send(args: argparse.Namespace) -> int:
    ctx = build_context()
    strategies = load_registry(ctx.settings.strategies_dir).current
    templates = load(ctx.settings.templates_dir)
    adapters = adapters_from(ctx.settings)
    while True:
        outcome = send_due(ctx.store, templates, strategies, adapters, ctx.now())
        report = outcome.as_dict()
        print(json.dumps(report, sort_keys=True) if args.json else " ".join(f"{k}={v}" for k, v in report.items()))
        if args.once:
            return 0
        time.sleep(args.every)


def _statement(args: argparse.Namespace) -> int:
    ctx = build_context()
    pdf = statement_pdf(ctx.store, load(ctx.settings.templates_dir), ctx.today(), ref=args.customer_ref)
    out = args.out or Path(f"{args.customer_ref}-statement.pdf")
    out.write_bytes(pdf)
    print(f"wrote {out} ({len(pdf)} bytes)")
    return 0
