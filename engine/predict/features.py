"""Features of a payment prediction, in numpy (no I/O): what a per-customer mean delay cannot see.

Every feature of an invoice is computed from the customer's payment record strictly before the
invoice's `known_day` (its issue day when training, the business date when scoring), so that a
model never learns from the future. The record is the customer's paid invoices sorted by the day
they were paid; the last `RECENT` of them give the pay-run habits (weekday, day of month, month
end) and the trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float32]

RECENT = 12  # how many of the customer's latest payments describe its habits
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_SHIFT = 1 << 21  # day numbers stay below 2**21 (year 7711): customer * _SHIFT + day is a sort key

# (name, words for an explanation). The order is the column order of the matrix.
FEATURES: tuple[tuple[str, str], ...] = (
    ("history", "payments on record"),
    ("mean_delay", "the customer's average delay"),
    ("spread", "how much the customer's delays vary"),
    ("last_delay", "the delay of the customer's last payment"),
    ("trend", "the customer's recent trend (last 3 payments against the average)"),
    ("terms", "the payment terms"),
    ("amount", "the invoice amount"),
    ("amount_vs_usual", "the amount compared with the customer's usual invoice"),
    ("due_weekday", "the weekday of the due date"),
    ("due_day_of_month", "the day of month of the due date"),
    ("season", "the month of the due date (season)"),
    ("weekday_habit", "how regularly the customer pays on one weekday (a weekly pay run)"),
    ("to_payrun_weekday", "days from the usual payment day to the customer's pay-run weekday"),
    ("day_of_month_habit", "how regularly the customer pays on one day of the month (a monthly pay run)"),
    ("to_payrun_day", "days from the usual payment day to the customer's pay-run day of month"),
    ("to_month_end", "days from the usual payment day to the month end"),
    ("due_to_payrun_weekday", "days from the due date to the customer's pay-run weekday"),
    ("due_to_payrun_day", "days from the due date to the customer's pay-run day of month"),
    ("due_to_month_end", "days from the due date to the month end"),
    ("disputed", "a dispute on this invoice"),
    ("dispute_rate", "the share of the customer's paid invoices that were disputed"),
    ("broken_promises", "promises to pay the customer broke in the last year"),
    ("segment", "the customer's segment"),
)
NAMES = tuple(n for n, _ in FEATURES)
WORDS = dict(FEATURES)
COLUMN = {n: k for k, n in enumerate(NAMES)}


@dataclass
class Record:
    """Paid invoices (the learning record), one row each; days are day numbers since 1970-01-01."""

    customer_id: IntArray
    issue_day: IntArray
    due_day: IntArray
    paid_day: IntArray
    amount: IntArray  # minor units
    disputed: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.customer_id.size)

    def take(self, mask: npt.NDArray[np.bool_] | IntArray) -> Record:
        return Record(*(getattr(self, f)[mask] for f in _RECORD_FIELDS))


_RECORD_FIELDS = ("customer_id", "issue_day", "due_day", "paid_day", "amount", "disputed")


@dataclass
class Targets:
    """Invoices to describe (open ones when scoring, paid ones when training)."""

    customer_id: IntArray
    issue_day: IntArray
    due_day: IntArray
    amount: IntArray
    disputed: npt.NDArray[np.bool_]
    segment: IntArray  # a code per segment (engine.rules.facts.SEGMENTS index, -1 unknown)
    known_day: IntArray  # history strictly before this day is used

    def __len__(self) -> int:
        return int(self.customer_id.size)


@dataclass
class Promises:
    """Broken promises to pay: the customer and the day each was found broken."""

    customer_id: IntArray
    broken_day: IntArray


def weekday(days: IntArray) -> IntArray:
    return (days + _EPOCH_WEEKDAY) % 7


def calendar(days: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """(year, month 1-12, day of month 1-31, days in that month) of day numbers, vectorised: the
    calendar of the few thousand distinct days in range is built once and looked up (converting
    millions of datetime64 values to months took seconds)."""
    if days.size == 0:
        empty = np.zeros(days.shape, dtype=np.int64)
        return empty, empty, empty, empty
    low = int(days.min())
    span = np.arange(low, int(days.max()) + 1).astype("datetime64[D]")
    months = span.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (span - months).astype(np.int64) + 1
    length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
    at = days - low
    return year[at], month[at], dom[at], length[at]


def build(record: Record, targets: Targets, promises: Promises | None = None) -> FloatMatrix:
    """The feature matrix of `targets` (one row each, columns in `NAMES` order)."""
    n = len(targets)
    out = np.zeros((n, len(NAMES)), dtype=np.float32)
    if n == 0:
        return out
    order = np.lexsort((record.paid_day, record.customer_id))
    cust, paid = record.customer_id[order], record.paid_day[order]
    delay = (paid - record.due_day[order]).astype(np.float64)
    amount = record.amount[order].astype(np.float64)
    disputed = record.disputed[order].astype(np.float64)
    keys = cust * _SHIFT + paid
    # The customer's history is the same for every target of one customer and known day (all
    # open invoices of a customer when scoring): compute it once per such pair, then spread it.
    found = np.unique(targets.customer_id * _SHIFT + targets.known_day, return_inverse=True)
    pair: IntArray = np.asarray(found[0], dtype=np.int64)
    spread_to: IntArray = np.asarray(found[1], dtype=np.int64).reshape(-1)
    start = np.searchsorted(keys, (pair // _SHIFT) * _SHIFT, "left")
    stop = np.searchsorted(keys, pair, "left")
    count = (stop - start).astype(np.float64)
    safe = np.maximum(count, 1)

    def window_sum(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        cs = np.concatenate(([0.0], np.cumsum(values)))
        return np.asarray(cs[stop] - cs[start])

    mean = window_sum(delay) / safe
    spread = np.sqrt(np.maximum(window_sum(delay * delay) / safe - mean * mean, 0))
    usual_amount = window_sum(amount) / safe
    dispute_rate = window_sum(disputed) / safe
    # the latest RECENT payments (a gather; -1 marks "none")
    back = stop[:, None] - np.arange(1, RECENT + 1)[None, :]
    valid = back >= start[:, None]
    at = np.where(valid, back, 0)
    recent_delay = np.where(valid, delay[at] if delay.size else 0.0, np.nan)
    last3 = np.nansum(recent_delay[:, :3], axis=1) / np.maximum(np.isfinite(recent_delay[:, :3]).sum(axis=1), 1)
    recent_paid = np.where(valid, paid[at] if paid.size else 0, -1)
    wd_habit, wd_mode = _mode(np.where(valid, weekday(recent_paid), -1), 7)
    _, _, pdom, _ = calendar(np.where(valid, recent_paid, 0))
    dom_habit, dom_mode = _mode(np.where(valid, pdom, -1), 32)
    broken = np.zeros(pair.size)
    if promises is not None and promises.customer_id.size:
        pk = np.sort(promises.customer_id * _SHIFT + promises.broken_day)
        broken = (np.searchsorted(pk, pair, "left") - np.searchsorted(pk, pair - 365, "left")).astype(np.float64)

    # per target from here on
    count, mean, spread = count[spread_to], mean[spread_to], spread[spread_to]
    usual_amount, dispute_rate = usual_amount[spread_to], dispute_rate[spread_to]
    last_delay, last3, broken = recent_delay[spread_to, 0], last3[spread_to], broken[spread_to]
    wd_habit, wd_mode = wd_habit[spread_to], wd_mode[spread_to]
    dom_habit, dom_mode = dom_habit[spread_to], dom_mode[spread_to]
    have = count > 0
    last3 = np.where(have, last3, 0.0)
    usual_day = targets.due_day + np.round(mean).astype(np.int64)
    _, month, due_dom, due_len = calendar(targets.due_day)
    _, _, udom, ulen = calendar(usual_day)
    to_weekday = (wd_mode - weekday(usual_day)) % 7
    to_dom = np.where(dom_mode >= udom, dom_mode - udom, ulen - udom + dom_mode)

    columns = {
        "history": count,
        "mean_delay": np.where(have, mean, np.nan),
        "spread": np.where(count > 1, spread, np.nan),
        "last_delay": last_delay,
        "trend": np.where(have, last3 - mean, np.nan),
        "terms": targets.due_day - targets.issue_day,
        "amount": np.log1p(np.maximum(targets.amount, 0)),
        "amount_vs_usual": np.where(
            have, np.log1p(np.maximum(targets.amount, 0)) - np.log1p(np.maximum(usual_amount, 0)), np.nan
        ),
        "due_weekday": weekday(targets.due_day),
        "due_day_of_month": due_dom,
        "season": month,
        "weekday_habit": np.where(have, wd_habit, np.nan),
        "to_payrun_weekday": np.where(have, to_weekday, np.nan),
        "day_of_month_habit": np.where(have, dom_habit, np.nan),
        "to_payrun_day": np.where(have, to_dom, np.nan),
        "to_month_end": np.where(have, ulen - udom, np.nan),
        "due_to_payrun_weekday": np.where(have, (wd_mode - weekday(targets.due_day)) % 7, np.nan),
        "due_to_payrun_day": np.where(
            have, np.where(dom_mode >= due_dom, dom_mode - due_dom, due_len - due_dom + dom_mode), np.nan
        ),
        "due_to_month_end": due_len - due_dom,
        "disputed": targets.disputed,
        "dispute_rate": np.where(have, dispute_rate, np.nan),
        "broken_promises": broken,
        "segment": targets.segment,
    }
    for name, values in columns.items():
        out[:, COLUMN[name]] = values
    return out


def _mode(values: IntArray, size: int) -> tuple[npt.NDArray[np.float64], IntArray]:
    """Per row: the share of valid entries equal to the most frequent value, and that value
    (entries of -1 are absent). Rows without any entry: share 0, value 0."""
    rows, cols = np.nonzero(values >= 0)
    counts = np.bincount(rows * size + values[rows, cols], minlength=values.shape[0] * size)
    counts = counts.reshape(values.shape[0], size)
    total = counts.sum(axis=1)
    mode = counts.argmax(axis=1)
    share = counts[np.arange(values.shape[0]), mode] / np.maximum(total, 1)
    return share.astype(np.float64), mode.astype(np.int64)


def customer_mean_delay(record: Record, targets: Targets) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The baseline: each target's customer's mean delay before its known day (0 with no record),
    and whether there was a record."""
    features = build(record, targets)
    mean = features[:, COLUMN["mean_delay"]].astype(np.float64)
    have = ~np.isnan(mean)
    return np.where(have, mean, 0.0), have
