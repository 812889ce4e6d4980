"""`o2c predict train|score|show` — payment predictions (engine/predict)."""

from __future__ import annotations

import argparse
import json
from datetime import date

from engine.bootstrap import build_context
from engine.predict import service


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="payment predictions: train the model, score open invoices, show one")
    inner = p.add_subparsers(dest="predict_command", required=True)
    t = inner.add_parser("train", help="learn from the payment history, then score every open invoice")
    t.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    t.set_defaults(run=_train)
    s = inner.add_parser("score", help="score every open invoice with the latest model")
    s.add_argument("--as-of", type=date.fromisoformat, default=None, help="business date (default: today)")
    s.set_defaults(run=_score)
    w = inner.add_parser("show", help="one invoice's prediction with its factors (JSON)")
    w.add_argument("invoice", type=int, help="invoice id")
    w.set_defaults(run=_show)


def _train(args: argparse.Namespace) -> int:
    ctx = build_context()
    run = service.train(ctx.store, args.as_of or ctx.today(), ctx.now(), ctx.settings)
    print(f"trained on {run.trained_rows} paid invoices: {run.line()}")
    if run.kind == "baseline":
        print(f"o2c: note: {run.reason}")
    return 0


def _score(args: argparse.Namespace) -> int:
    ctx = build_context()
    print(service.score(ctx.store, args.as_of or ctx.today(), ctx.settings, ctx.now()).line())
    return 0


def _show(args: argparse.Namespace) -> int:
    ctx = build_context()
    found = service.explain(ctx.store, [args.invoice], ctx.today())
    if args.invoice not in found:
        print(f"o2c: invoice {args.invoice} does not exist or is not open")
        return 1
    p = found[args.invoice]
    print(json.dumps({k: str(v) if isinstance(v, date) else v for k, v in p.__dict__.items()}, indent=2))
    return 0
