"""Aging report and collection KPIs (definitions in DESIGN.md), per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from engine.queries.receivables import open_at_sql
from engine.queries.sql import Params, day_text
from engine.services.customers import check_segment
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.errors import ValidationFailed
from states.money import check_currency

# (key, label, lowest days past due, highest days past due or None)
BUCKETS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("current", "current", None, 0),
    ("d1_30", "1–30", 1, 30),
    ("d31_60", "31–60", 31, 60),
    ("d61_90", "61–90", 61, 90),
    ("d91_plus", "91+", 91, None),
)


@dataclass(frozen=True)
class AgingBucket:
    key: str
    label: str
    amount: int
    count: int


@dataclass(frozen=True)
class Aging:
    as_of: date
    currency: str
    segment: str | None
    buckets: tuple[AgingBucket, ...]

    @property
    def total(self) -> int:
        return sum(b.amount for b in self.buckets)


def aging_report(store: Store, zone: ZoneInfo, as_of: date, currency: str, segment: str | None) -> Aging:
    cur = check_currency(currency)
    if segment is not None:
        check_segment(segment)
    p = Params()
    inner = open_at_sql(p, as_of, zone, cur, segment)
    sql = f"SELECT due_date, open_at FROM ({inner}) r WHERE open_at > 0"
    sums = {key: [0, 0] for key, *_ in BUCKETS}
    with read_only(store) as uow:
        rows = uow.select(sql, p.bound())
    for due, open_at in rows:
        due_day = due if isinstance(due, date) else date.fromisoformat(str(due)[:10])
        sums[bucket_of((as_of - due_day).days)][0] += int(open_at)
        sums[bucket_of((as_of - due_day).days)][1] += 1
    buckets = tuple(AgingBucket(k, label, sums[k][0], sums[k][1]) for k, label, *_ in BUCKETS)
    return Aging(as_of, cur, segment, buckets)


def bucket_of(days_past_due: int) -> str:
    for key, _label, low, high in BUCKETS:
        if (low is None or days_past_due >= low) and (high is None or days_past_due <= high):
            return key
    raise AssertionError(days_past_due)


@dataclass(frozen=True)
class Kpis:
    start: date
    end: date
    currency: str
    days: int
    beginning_ar: int
    ending_ar: int
    ending_current_ar: int
    credit_sales: int
    dso: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None


def _receivables(store: Store, zone: ZoneInfo, day: date, currency: str) -> tuple[int, int]:
    """(total, current) receivables at the end of `day`; current = not yet due."""
    p = Params()
    inner = open_at_sql(p, day, zone, currency)
    d = p.add(day_text(day))
    sql = (
        "SELECT COALESCE(SUM(open_at), 0),"
        f" COALESCE(SUM(CASE WHEN due_date >= {d} THEN open_at ELSE 0 END), 0) FROM ({inner}) r"
    )
    with read_only(store) as uow:
        total, current = uow.select(sql, p.bound())[0]
    return int(total), int(current)


def _sales(store: Store, start: date, end: date, currency: str) -> int:
    p = Params()
    sql = (
        "SELECT COALESCE(SUM(amount), 0) FROM invoice WHERE state <> 'cancelled'"
        f" AND currency = {p.add(currency)} AND issue_date >= {p.add(day_text(start))}"
        f" AND issue_date <= {p.add(day_text(end))}"
    )
    with read_only(store) as uow:
        return int(uow.select(sql, p.bound())[0])


def _ratio(numerator: int, denominator: int, scale: int) -> Decimal | None:
    if denominator == 0:
        return None
    value = Decimal(numerator) * scale / Decimal(denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def kpis(store: Store, zone: ZoneInfo, start: date, end: date, currency: str) -> Kpis:
    """DSO = ending AR / credit sales × days; best possible DSO = current AR / credit sales ×
    days; ADD = DSO − best possible DSO; CEI = (beginning AR + sales − ending AR) /
    (beginning AR + sales − ending current AR) × 100."""
    cur = check_currency(currency)
    if end < start:
        raise ValidationFailed("the period ends before it starts", "to")
    days = (end - start).days + 1
    beginning, _ = _receivables(store, zone, start - timedelta(days=1), cur)
    ending, ending_current = _receivables(store, zone, end, cur)
    sales = _sales(store, start, end, cur)
    dso = _ratio(ending, sales, days)
    best = _ratio(ending_current, sales, days)
    add = dso - best if dso is not None and best is not None else None
    cei = _ratio(beginning + sales - ending, beginning + sales - ending_current, 100)
    return Kpis(start, end, cur, days, beginning, ending, ending_current, sales, dso, best, add, cei)
