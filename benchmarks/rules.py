"""Rules engine throughput: numpy rows/s over 1,000,000 invoices of a 10-rule strategy, and
durable-rules evaluations/s one invoice at a time. The last line printed is JSON."""

from __future__ import annotations

import json
import time

import numpy as np

from engine.rules.compiler import compile_strategy
from engine.rules.durable_eval import engine
from engine.rules.facts import CURRENCIES, FACTS
from engine.rules.loader import load_text
from engine.rules.numpy_eval import evaluate
from states.invoice import STATES

STRATEGY = """
strategy: bench-ten-rules
version: 1
applies_to: {segment: [smb], risk: [low, medium, high, critical]}
settings:
  grace_days: 3
  min_amount: {EUR: 50.00, USD: 50.00, GBP: 40.00}
  max_dunning_level: 4
  contact_cap: {max: 3, per_days: 7}
rules:
  - {id: pre-due, when: days_to_due == 5, then: [remind: {channel: email, template: t}]}
  - {id: due-today, when: days_past_due == 0 and business_day, then: [remind: {channel: sms, template: t}]}
  - id: legal
    when: risk == "critical" and dunning_level >= 3 and days_past_due >= 90
    then: [escalate: {to: legal}]
  - {id: agency, when: dunning_level >= 4 and days_since_last_notice >= 14, then: [escalate: {to: agency}]}
  - {id: first, when: dunning_level == 0 and open_amount >= 100.00 EUR, then: [dun: {channel: email, template: t}]}
  - {id: first-small, when: dunning_level == 0, then: [dun: {channel: letter, template: t}]}
  - id: next-risky
    when: dunning_level >= 1 and days_since_last_notice >= 7 and risk in [high, critical]
    then: [dun: {channel: phone, template: t}]
  - {id: next, when: dunning_level >= 1 and days_since_last_notice >= 14, then: [dun: {channel: letter, template: t}]}
  - id: promises
    track: follow-up
    when: account.broken_promises >= 2 and state in [overdue, dunning]
    then: [create_task: {queue: q}]
  - id: big-exposure
    track: follow-up
    when: account.exposure - account.credit_limit > 10000.00 EUR
    then: [create_task: {queue: credit}]
"""


def columns(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    dpd = rng.integers(-30, 120, n)
    cols: dict[str, np.ndarray] = {
        "days_past_due": dpd,
        "days_to_due": -dpd,
        "open_amount": rng.integers(0, 1_000_000, n),
        "dunning_level": rng.integers(0, 5, n),
        "days_since_last_notice": rng.integers(0, 30, n),
        "recent_notices": rng.integers(0, 4, n),
        "state": rng.integers(0, len(STATES), n),
        "currency": rng.choice([CURRENCIES.index(c) for c in ("EUR", "USD", "GBP", "JPY")], n),
        "risk": rng.integers(0, 4, n),
        "business_day": rng.random(n) < 0.7,
        "account.broken_promises": rng.integers(0, 4, n),
        "account.exposure": rng.integers(0, 10_000_000, n),
        "account.credit_limit": rng.integers(0, 10_000_000, n),
    }
    assert set(cols) <= set(FACTS)
    return cols


def main() -> None:
    compiled = compile_strategy(load_text(STRATEGY, "bench.yaml"))
    rng = np.random.default_rng(7)
    n = 1_000_000
    cols = columns(n, rng)
    evaluate(compiled, {k: v[:1000] for k, v in cols.items()})  # warm up
    best = min(_timed(lambda: evaluate(compiled, cols)) for _ in range(3))
    text_cols = dict(cols, state=np.array(STATES)[cols["state"]], currency=np.array(CURRENCIES)[cols["currency"]])
    best_text = min(_timed(lambda: evaluate(compiled, text_cols)) for _ in range(2))

    durable = engine()
    rows = [{k: v[i].item() for k, v in cols.items()} for i in range(20_000)]
    for row in rows:
        row["currency"], row["state"], row["risk"] = CURRENCIES[row["currency"]], STATES[row["state"]], (
            "low", "medium", "high", "critical")[row["risk"]]  # fmt: skip
    durable.evaluate(compiled, rows[0])
    start = time.perf_counter()
    for row in rows:
        durable.evaluate(compiled, row)
    durable_s = time.perf_counter() - start
    result = {
        "rules": len(compiled.rules),
        "numpy_rows": n,
        "numpy_seconds": round(best, 4),
        "numpy_rows_per_s": int(n / best),
        "numpy_rows_per_s_text_enums": int(n / best_text),
        "durable_evals": len(rows),
        "durable_evals_per_s": int(len(rows) / durable_s),
    }
    print(json.dumps(result))


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
