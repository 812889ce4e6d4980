"""`o2c forecast --currency EUR [--weeks 13] [--past-weeks 8] [--json]` — the cash-in forecast."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import date

from engine.bootstrap import build_context
from engine.predict.forecast import forecast
from states.money import format_minor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("forecast", help="expected receipts per week (with a band) and forecast vs actual")
    p.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
    p.add_argument("--weeks", type=int, default=13)
    p.add_argument("--past-weeks", type=int, default=8, help="past weeks to compare with what was received")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_forecast)


def _forecast(args: argparse.Namespace) -> int:
    ctx = build_context()
    found = forecast(ctx.store, args.currency, args.as_of or ctx.today(), args.weeks, args.past_weeks)
    if args.json:
        print(json.dumps(asdict(found), default=str))
        return 0
    cur = found.currency

    def money(minor: int | None) -> str:
        return "-" if minor is None else format_minor(minor, cur)

    print(f"cash-in forecast in {cur} as of {found.as_of} ({found.unscored} open invoices not scored yet)")
    print(f"{'week of':<12}{'expected':>16}{'low':>16}{'high':>16}")
    for w in found.weeks:
        print(f"{w.week_start!s:<12}{money(w.expected):>16}{money(w.low):>16}{money(w.high):>16}")
    if found.past:
        print(f"\n{'past week':<12}{'forecast':>16}{'actual':>16}  forecast made on")
        for p in found.past:
            print(f"{p.week_start!s:<12}{money(p.forecast):>16}{money(p.actual):>16}  {p.forecast_on or '-'}")
    return 0
