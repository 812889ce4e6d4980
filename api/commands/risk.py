"""`o2c risk score [--customer ID]` — recompute customer risk scores (engine/scoring/)."""

from __future__ import annotations

import argparse
import json
from collections import Counter

from engine.bootstrap import build_context
from engine.scoring import CLASSES, score_all, score_customer
from engine.store.unit_of_work import transact


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("risk", help="customer risk scores")
    inner = p.add_subparsers(dest="risk_command", required=True)
    s = inner.add_parser("score", help="recompute the risk score of every customer (or of one)")
    s.add_argument("--customer", type=int, default=None, help="only this customer id; prints its explanation")
    s.set_defaults(run=_score)


def _score(args: argparse.Namespace) -> int:
    ctx = build_context()
    if args.customer is not None:
        explanation = transact(ctx.store, lambda uow: score_customer(uow, args.customer, ctx.today(), at=ctx.now()))
        print(json.dumps(explanation, indent=2))
        return 0
    run = score_all(ctx.store, ctx.today(), now=ctx.now())
    counts = Counter(str(c) for c in run.scores.risk_class)
    summary = ", ".join(f"{c} {counts.get(c, 0)}" for c in CLASSES)
    print(
        f"scored {len(run.scores.customer_id)} customers as of {ctx.today()} in {run.seconds['total']:.2f} s: "
        f"{summary}; {run.changed} changed, {run.class_changed} changed class"
    )
    return 0
