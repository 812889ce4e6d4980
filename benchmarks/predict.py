"""Payment prediction, measured honestly against baselines on a history with varied behaviour
(`engine/predict/synthetic.py` lists the behaviours it contains).

Time split: the model learns from invoices paid before a cut-off day and predicts, as of that
day, the invoices open and not yet due then (they are paid after it). Printed: MAE in days of
the predicted payment date for the model, for the due date and for due date + the customer's
mean delay; the Brier score of the late probability against the base rate's; calibration by
decile; then training and scoring times (training on N customers / M payments, scoring M open
invoices). JSON on the last line.

    .venv/bin/python benchmarks/predict.py                    # 100,000 customers, 1,000,000 invoices
    .venv/bin/python benchmarks/predict.py --customers 5000 --invoices 60000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.predict.features import Targets, customer_mean_delay
from engine.predict.model import ModelSettings, predict, train
from engine.predict.synthetic import generate

START = 19000  # 2022-01-08


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for the trees (O2C_PREDICT_THREADS)")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        return run(args)


def run(args: argparse.Namespace) -> int:

    hist = generate(args.customers, args.invoices, START, args.days)
    cut = START + args.days - 90
    record = hist.record(cut)
    paid = (hist.paid_day >= 0) & (hist.paid_day < cut)
    t0 = time.perf_counter()
    model = train(record, hist.promises, hist.segment[paid], ModelSettings())
    train_s = time.perf_counter() - t0

    open_now = (hist.issue_day <= cut) & (hist.paid_day >= cut) & (hist.due_day >= cut)
    idx = np.flatnonzero(open_now)
    targets = Targets(
        hist.customer_id[idx],
        hist.issue_day[idx],
        hist.due_day[idx],
        hist.amount[idx],
        hist.disputed[idx],
        hist.segment[idx],
        np.full(idx.size, cut, dtype=np.int64),
    )
    pred = predict(model, record, targets, cut, hist.promises)
    actual = (hist.paid_day[idx] - hist.due_day[idx]).astype(np.float64)
    mean, _ = customer_mean_delay(record, targets)
    mae_model = float(np.abs(pred.expected_day - hist.paid_day[idx]).mean())
    mae_due = float(np.abs(np.maximum(hist.due_day[idx], cut) - hist.paid_day[idx]).mean())
    mae_mean = float(
        np.abs(np.maximum(hist.due_day[idx] + np.round(mean).astype(np.int64), cut) - hist.paid_day[idx]).mean()
    )
    late = (actual > 0).astype(np.float64)
    brier = float(((pred.p_late - late) ** 2).mean())
    brier_base = float(((model.base_rate - late) ** 2).mean())
    inside = float(((hist.paid_day[idx] >= pred.low_day) & (hist.paid_day[idx] <= pred.high_day)).mean())

    print(f"history: {args.customers} customers, {args.invoices} invoices over {args.days} days; cut-off day {cut}")
    print(f"trained on {model.trained_rows} paid invoices ({model.kind}) in {train_s:.1f} s: {model.metrics}")
    print(f"evaluated on {idx.size} invoices open and not yet due at the cut-off")
    print(f"MAE days: model {mae_model:.2f} | due date {mae_due:.2f} | due + customer mean {mae_mean:.2f}")
    print(f"  ratio model / customer-mean baseline: {mae_model / mae_mean:.3f} (goal <= 0.8)")
    print(f"Brier: model {brier:.4f} | base rate {model.base_rate:.3f} -> {brier_base:.4f}")
    print(f"80 % interval holds the actual day for {inside:.1%}")
    calibration = []
    edges = np.quantile(pred.p_late, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, pred.p_late, "right") - 1, 0, 9)
    print("calibration by decile of p_late: predicted / observed late share (n)")
    for d in range(10):
        m = bins == d
        if m.any():
            row = {"decile": d + 1, "predicted": float(pred.p_late[m].mean()), "observed": float(late[m].mean())}
            calibration.append(row | {"n": int(m.sum())})
            print(f"  {d + 1:2d}: {row['predicted']:.3f} / {row['observed']:.3f} ({int(m.sum())})")

    # scoring speed: an open book of every generated invoice, moved so that its due dates spread
    # from 60 days before the cut-off to 60 days after it (about half past due), as of the cut-off
    n = hist.customer_id.size
    shift = cut + np.random.default_rng(1).integers(-60, 61, n) - hist.due_day
    every = Targets(
        hist.customer_id,
        hist.issue_day + shift,
        hist.due_day + shift,
        hist.amount,
        hist.disputed,
        hist.segment,
        np.full(n, cut, dtype=np.int64),
    )
    t1 = time.perf_counter()
    predict(model, record, every, cut, hist.promises)
    score_s = time.perf_counter() - t1
    past_due = float((every.due_day < cut).mean())
    print(f"scored {n} open invoices ({past_due:.0%} past due) in {score_s:.1f} s; trained in {train_s:.1f} s")
    result = {
        "customers": args.customers,
        "invoices": args.invoices,
        "evaluated": int(idx.size),
        "mae_model": round(mae_model, 3),
        "mae_due_date": round(mae_due, 3),
        "mae_customer_mean": round(mae_mean, 3),
        "mae_ratio": round(mae_model / mae_mean, 3),
        "brier_model": round(brier, 4),
        "brier_base_rate": round(brier_base, 4),
        "interval_80_coverage": round(inside, 3),
        "train_seconds": round(train_s, 2),
        "score_seconds": round(score_s, 2),
        "scored": n,
        "scored_past_due_share": round(past_due, 3),
        "threads": args.threads,
        "calibration": calibration,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
