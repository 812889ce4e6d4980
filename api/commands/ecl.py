"""`o2c ecl --currency EUR [--as-of DATE] [--loss-after-days N] [--top N] [--json]` — expected bad
debt: the provision matrix and the total expected credit loss (engine/predict/credit_loss, the same
function as the `expectedCreditLoss` query)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import date

from engine.bootstrap import build_context
from engine.predict.credit_loss import BUCKETS, LOSS_AFTER_DAYS, expected_credit_loss
from states.money import format_minor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ecl", help="expected credit loss: the provision matrix (IFRS 9 simplified) and its total")
    p.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    p.add_argument("--loss-after-days", type=int, default=LOSS_AFTER_DAYS, help="open this long past due = a loss")
    p.add_argument("--top", type=int, default=10, help="customers with the largest expected loss to list")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_ecl)


def _ecl(args: argparse.Namespace) -> int:
    if not 0 <= args.top <= 100:
        print("o2c: --top must be between 0 and 100")
        return 1
    ctx = build_context()
    today = ctx.today()
    found = expected_credit_loss(ctx.store, args.currency, args.as_of or today, today, args.loss_after_days, args.top)
    if args.json:
        print(json.dumps(asdict(found), default=str))
        return 0
    cur = found.currency
    print(f"expected credit loss in {cur} as of {found.as_of} (a loss: written off or {args.loss_after_days}+ days)")
    buckets = [b[0] for b in BUCKETS]
    cells = {(c.segment, c.bucket): c for c in found.matrix}
    segments = list(dict.fromkeys(c.segment for c in found.matrix))
    print(f"\n{'loss rate':<16}" + "".join(f"{b:>12}" for b in buckets))
    for s in segments:
        rates = [cells.get((s, b)) for b in buckets]
        row = "".join(f"{'-' if c is None else f'{c.loss_rate:.2%}' + ('*' if c.pooled else ''):>12}" for c in rates)
        print(f"{s:<16}{row}")
    print(f"\n{'expected loss':<16}" + "".join(f"{b:>12}" for b in buckets))
    for s in segments:
        row = "".join(
            f"{format_minor(cells[(s, b)].expected_loss, cur) if (s, b) in cells else '-':>12}" for b in buckets
        )
        print(f"{s:<16}{row}")
    if any(c.pooled for c in found.matrix):
        print("* too few invoices in the segment: the rate of all segments is used")
    print(
        f"\nexposure {format_minor(found.total_exposure, cur)}; expected credit loss {format_minor(found.total, cur)}"
    )
    if found.customers:
        print(f"\n{'customer':<40}{'exposure':>16}{'expected loss':>16}")
        for c in found.customers:
            print(f"{c.name[:39]:<40}{format_minor(c.exposure, cur):>16}{format_minor(c.expected_loss, cur):>16}")
    return 0
