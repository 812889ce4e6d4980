"""Cash-in forecast: expected receipts per week from the open invoices' predicted payment
distributions, with a low/high band, and forecast-vs-actual for past weeks from the daily snapshot.

Each invoice's payment day is spread along its stored prediction: 10 % by the interval's low
day, 50 % by the expected day, 90 % by the high day, linear in between, with the outer tenths
spread over as many days again beyond each end. Receipts of a week are Σ open amount × P(paid in
that week); the band is ± 1.28 standard deviations of that sum with invoices independent
(an 80 % band), never below zero. Money stays integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import fetch_all
from engine.predict.store import COLLECTIBLE, day_number
from engine.store.bulk import Bulk
from engine.store.database import Store
from engine.store.dialect import day_number_sql
from engine.store.unit_of_work import UnitOfWork
from states.errors import ValidationFailed
from states.money import check_currency

Z80 = 1.2816  # the normal quantile of 90 %: a two-sided 80 % band
MAX_WEEKS = 52
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Week:
    week_start: date  # a Monday
    expected: int
    low: int
    high: int


@dataclass(frozen=True)
class PastWeek:
    week_start: date
    forecast: int | None  # as forecast on `forecast_on` (None: no snapshot before that week)
    low: int | None
    high: int | None
    forecast_on: date | None
    actual: int  # payments received that week


@dataclass(frozen=True)
class CashForecast:
    currency: str
    as_of: date
    weeks: list[Week]
    past: list[PastWeek]
    unscored: int  # open invoices without a stored prediction (counted on their due date)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _cdf(t: FloatArray, knots: list[FloatArray]) -> FloatArray:
    """Piecewise-linear CDF through (k0, 0), (k1, .1), (k2, .5), (k3, .9), (k4, 1) per row at day t."""
    levels = (0.0, 0.1, 0.5, 0.9, 1.0)
    out = np.where(t >= knots[-1], 1.0, 0.0)
    for j in range(4):
        a, b = knots[j], knots[j + 1]
        inside = (t >= a) & (t < b)
        width = np.maximum(b - a, 1e-9)
        out = np.where(inside, levels[j] + (levels[j + 1] - levels[j]) * (t - a) / width, out)
    return out


def weekly(amount: FloatArray, low: FloatArray, mid: FloatArray, high: FloatArray, first: int, weeks: int) -> list[Any]:
    """(expected, low, high) receipts per week starting at day number `first`."""
    knots = [low - np.maximum(mid - low, 1), low, mid, high + 1, high + 1 + np.maximum(high - mid, 1)]
    rows = []
    previous = np.zeros(amount.size)  # nothing still open is paid before the first week
    for w in range(weeks):
        cdf = _cdf(np.full(amount.size, float(first + 7 * (w + 1))), knots)
        p = cdf - previous
        previous = cdf
        expected = float((amount * p).sum())
        sd = float(np.sqrt((amount * amount * p * (1 - p)).sum()))
        rows.append((round(expected), max(round(expected - Z80 * sd), 0), round(expected + Z80 * sd)))
    return rows


def _open_invoices(store: Store, currency: str) -> tuple[npt.NDArray[np.int64], int]:
    days = partial(day_number_sql, store)
    sql = (
        f"SELECT i.open_amount, COALESCE({days('p.low_on')}, {days('i.due_date')}), "
        f"COALESCE({days('p.expected_on')}, {days('i.due_date')}), "
        f"COALESCE({days('p.high_on')}, {days('i.due_date')}), "
        f"CASE WHEN p.invoice IS NULL THEN 1 ELSE 0 END "
        f"FROM invoice i LEFT JOIN invoice_prediction p ON p.invoice = i.id "
        f"WHERE i.state IN ({COLLECTIBLE}) AND i.currency = '{currency}' AND i.open_amount > 0"
    )
    with UnitOfWork(store) as uow:
        rows = fetch_all(uow, sql)
    m = np.array(rows, dtype=np.int64).reshape(-1, 5) if rows else np.zeros((0, 5), dtype=np.int64)
    return m, int(m[:, 4].sum())


def forecast(store: Store, currency: str, today: date, weeks: int = 13, past_weeks: int = 8) -> CashForecast:
    cur = check_currency(currency)
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationFailed(f"weeks={weeks}: between 1 and {MAX_WEEKS}", "weeks")
    if not 0 <= past_weeks <= MAX_WEEKS:
        raise ValidationFailed(f"pastWeeks={past_weeks}: between 0 and {MAX_WEEKS}", "pastWeeks")
    m, unscored = _open_invoices(store, cur)
    start = monday(today)
    t = day_number(today)
    lo, mid, hi = (np.maximum(m[:, k], t).astype(np.float64) for k in (1, 2, 3))
    rows = weekly(m[:, 0].astype(np.float64), lo, mid, hi, day_number(start), weeks)
    ahead = [Week(start + timedelta(days=7 * w), *r) for w, r in enumerate(rows)]
    return CashForecast(cur, today, ahead, _past(store, cur, start, past_weeks), unscored)


def _past(store: Store, currency: str, this_week: date, count: int) -> list[PastWeek]:
    if count == 0:
        return []
    first = this_week - timedelta(days=7 * count)
    with UnitOfWork(store) as uow:
        snaps = uow.select(
            "SELECT business_date, week_start, expected, low, high FROM cash_forecast_snapshot "
            "WHERE currency = $c AND week_start >= $f AND week_start < $t ORDER BY business_date",
            {"c": currency, "f": first, "t": this_week},
        )
        paid = uow.select(
            "SELECT received_on, amount FROM payment WHERE currency = $c AND reversed_at IS NULL "
            "AND received_on >= $f AND received_on < $t",
            {"c": currency, "f": first, "t": this_week},
        )
    actual: dict[date, int] = {}
    for received_on, amount in paid:
        key = monday(_as_date(received_on))
        actual[key] = actual.get(key, 0) + int(amount)
    # per week, the latest snapshot taken before the week began (else the earliest taken in it)
    chosen: dict[date, tuple[date, int, int, int]] = {}
    for on, week, expected, low, high in snaps:
        on, week = _as_date(on), _as_date(week)
        have = chosen.get(week)
        if have is None or (on < week and (have[0] >= week or on > have[0])):
            chosen[week] = (on, int(expected), int(low), int(high))
    out = []
    for w in range(count):
        week = first + timedelta(days=7 * w)
        snap = chosen.get(week)
        out.append(
            PastWeek(
                week,
                snap[1] if snap else None,
                snap[2] if snap else None,
                snap[3] if snap else None,
                snap[0] if snap else None,
                actual.get(week, 0),
            )
        )
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def snapshot(store: Store, today: date, weeks: int = 13) -> int:
    """Keep today's forecast of every currency with open invoices (replacing today's, if any)."""
    with UnitOfWork(store) as uow:
        currencies = [
            str(r) for r in uow.select(f"SELECT DISTINCT currency FROM invoice WHERE state IN ({COLLECTIBLE})")
        ]
    rows = []
    for cur in sorted(currencies):
        for week in forecast(store, cur, today, weeks, 0).weeks:
            rows.append((today, cur, week.week_start, week.expected, week.low, week.high))
    with UnitOfWork(store, write=True) as uow:
        bulk = Bulk(uow)
        uow.execute("DELETE FROM cash_forecast_snapshot WHERE business_date = $d", {"d": today})
        bulk.insert(
            "cash_forecast_snapshot",
            ("business_date", "currency", "week_start", "expected", "low", "high"),
            [(bulk.day(d), c, bulk.day(w), e, lo, hi) for d, c, w, e, lo, hi in rows],
        )
        uow.commit()
    return len(rows)
