"""KPI history: a daily snapshot of aging and collection KPIs per currency, for everyone and broken
down by segment, by strategy (the one the customer's segment × risk class routes to) and by collector
(the e-mail of the collector whose portfolio the customer is in, `customer.collector`; customers in no
portfolio form the group "unassigned"), kept in
`kpi_snapshot` so that trends can be asked for; the latest one feeds the Prometheus gauges.

Figures of a snapshot (money in minor units of its currency):
- open / current receivables and the aging buckets, as they stood at the end of the day
  (`engine.queries.receivables`); `pct_current` = current ÷ open × 100;
- `countback_dso`: open receivables counted back against credit sales month by month, from the
  day backwards (whole months' days, then the share of the month that exhausts the rest);
- `promise_kept_rate`: kept ÷ (kept + broken) of promises decided in the 90 days up to the day;
- `unapplied_cash` and its aging by day received (0-30, 31-60, 61-90, 91+): payments received by
  the day that are still unapplied today (a back-filled day uses today's unapplied amounts);
- `dispute_cycle_days`: mean days from opening to resolution of disputes resolved in the 90 days
  up to the day, and `open_disputes` at the end of it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.queries.receivables import open_at_sql
from engine.queries.sql import Params, day_text, end_of_day
from engine.rules.registry import StrategySet
from engine.store.bulk import Bulk
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from states.errors import ValidationFailed
from states.money import check_currency

DIMENSIONS = ("all", "segment", "strategy", "collector")
UNASSIGNED = "unassigned"  # the collector key of customers in no portfolio
WINDOW_DAYS = 90
AGING = (("current", None, 0), ("d1_30", 1, 30), ("d31_60", 31, 60), ("d61_90", 61, 90), ("d91_plus", 91, None))
CASH_AGING = (("d0_30", 0, 30), ("d31_60", 31, 60), ("d61_90", 61, 90), ("d91_plus", 91, None))
Router = Callable[[str, str], str]  # (segment, risk class) -> strategy name


@dataclass(frozen=True)
class Snapshot:
    business_date: date
    currency: str
    dimension: str
    key: str
    figures: dict[str, Any]


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _in(days: int, low: int | None, high: int | None) -> bool:
    return (low is None or days >= low) and (high is None or days <= high)


def countback_dso(open_ar: int, sales_by_day: dict[date, int], day: date) -> float | None:
    """Days of sales, counted back month by month from `day`, that the open receivables equal."""
    if open_ar <= 0:
        return 0.0
    left, days, end = open_ar, 0.0, day
    for _ in range(24):
        start = end.replace(day=1)
        sales = sum(v for d, v in sales_by_day.items() if start <= d <= end)
        span = (end - start).days + 1
        if sales >= left:
            return round(days + span * left / sales, 1)
        left -= sales
        days += span
        end = start - timedelta(days=1)
    return None  # more than two years of sales outstanding: not a meaningful figure


def compute(store: Store, zone: ZoneInfo, day: date, route: Router | None = None) -> list[Snapshot]:
    """Every currency's snapshot of `day`, for everyone, per segment, per collector and (with `route`)
    per strategy."""
    since = day - timedelta(days=WINDOW_DAYS - 1)
    end = end_of_day(day, zone)
    with read_only(store) as uow:
        customers = {
            int(r[0]): (str(r[1]), str(r[2]), str(r[3]) if r[3] is not None else UNASSIGNED)
            for r in uow.select(
                "SELECT c.id, c.segment, c.risk_class, k.email FROM customer c "
                "LEFT JOIN collector k ON k.id = c.collector"
            )
        }
        currencies = sorted({str(r) for r in uow.select("SELECT DISTINCT currency FROM invoice")})
        promises = uow.select(
            "SELECT p.customer, p.status, i.currency FROM promise_to_pay p JOIN invoice i ON i.id = p.invoice "
            "WHERE p.status IN ('kept', 'broken') AND p.decided_at >= $s AND p.decided_at < $e",
            {"s": since.isoformat(), "e": end},
        )
        disputes = uow.select(
            "SELECT d.customer, d.opened_at, d.resolved_at, i.currency FROM dispute d JOIN invoice i "
            "ON i.id = d.invoice WHERE d.opened_at < $e AND (d.resolved_at IS NULL OR d.resolved_at >= $s)",
            {"s": since.isoformat(), "e": end},
        )
        cash = uow.select(
            "SELECT customer, received_on, unapplied_amount, currency FROM payment "
            "WHERE unapplied_amount > 0 AND reversed_at IS NULL AND received_on <= $d",
            {"d": day_text(day)},
        )
        owners = dict(uow.select("SELECT id, customer FROM invoice"))

    def keys(customer: int) -> list[tuple[str, str]]:
        segment, risk, collector = customers.get(customer, ("unknown", "medium", UNASSIGNED))
        found = [("all", "all"), ("segment", segment), ("collector", collector)]
        if route is not None:
            found.append(("strategy", route(segment, risk)))
        return found

    out: list[Snapshot] = []
    for cur in currencies:
        figures: dict[tuple[str, str], dict[str, Any]] = defaultdict(_empty)
        p = Params()
        inner = open_at_sql(p, day, zone, cur)
        with read_only(store) as uow:
            rows = uow.select(f"SELECT id, due_date, open_at FROM ({inner}) r WHERE open_at > 0", p.bound())
            sales = uow.select(
                "SELECT customer, issue_date, amount FROM invoice WHERE currency = $c AND state <> 'cancelled' "
                "AND issue_date > $a AND issue_date <= $d",
                {"c": cur, "a": day_text(day - timedelta(days=731)), "d": day_text(day)},
            )
        sold: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for customer, issued, amount in sales:
            for k in keys(int(customer)):
                sold[k][_as_date(issued)] += int(amount)
        for invoice_id, due, open_at in rows:
            dpd = (day - _as_date(due)).days
            bucket = next(name for name, low, high in AGING if _in(dpd, low, high))
            for k in keys(int(owners[invoice_id])):
                f = figures[k]
                f["open_receivables"] += int(open_at)
                f["aging"][bucket] += int(open_at)
        for customer, status, currency in promises:
            if currency == cur:
                for k in keys(int(customer)):
                    figures[k]["promises_" + str(status)] += 1
        for customer, opened, resolved, currency in disputes:
            if currency != cur:
                continue
            for k in keys(int(customer)):
                f = figures[k]
                if resolved is not None and _as_date(resolved) <= day:
                    f["_cycle"].append((_as_date(resolved) - _as_date(opened)).days)
                else:
                    f["open_disputes"] += 1
        for customer, received, unapplied, currency in cash:
            if currency != cur:
                continue
            age = (day - _as_date(received)).days
            bucket = next(name for name, low, high in CASH_AGING if _in(age, low, high))
            for k in keys(int(customer)):
                figures[k]["unapplied_cash"] += int(unapplied)
                figures[k]["unapplied_aging"][bucket] += int(unapplied)
        for (dimension, key), f in sorted(figures.items()):
            out.append(Snapshot(day, cur, dimension, key, _finish(f, sold[(dimension, key)], day)))
    return out


def _empty() -> dict[str, Any]:
    return {
        "open_receivables": 0,
        "aging": dict.fromkeys((a[0] for a in AGING), 0),
        "promises_kept": 0,
        "promises_broken": 0,
        "open_disputes": 0,
        "_cycle": [],
        "unapplied_cash": 0,
        "unapplied_aging": dict.fromkeys((a[0] for a in CASH_AGING), 0),
    }


def _finish(f: dict[str, Any], sales: dict[date, int], day: date) -> dict[str, Any]:
    cycle = f.pop("_cycle")
    total, current = f["open_receivables"], f["aging"]["current"]
    decided = f["promises_kept"] + f["promises_broken"]
    return f | {
        "current_receivables": current,
        "pct_current": round(current * 100 / total, 1) if total else None,
        "countback_dso": countback_dso(total, sales, day),
        "promise_kept_rate": round(f["promises_kept"] / decided, 3) if decided else None,
        "dispute_cycle_days": round(sum(cycle) / len(cycle), 1) if cycle else None,
        "disputes_resolved": len(cycle),
    }


def write(store: Store, snapshots: list[Snapshot]) -> int:
    """Replace the snapshots of the days given (idempotent per business date)."""
    days = sorted({s.business_date for s in snapshots})
    with UnitOfWork(store, write=True) as uow:
        bulk = Bulk(uow)
        for d in days:
            uow.execute("DELETE FROM kpi_snapshot WHERE business_date = $d", {"d": d})
        bulk.insert(
            "kpi_snapshot",
            ("business_date", "currency", "dimension", "key", "figures"),
            [(bulk.day(s.business_date), s.currency, s.dimension, s.key, bulk.json(s.figures)) for s in snapshots],
        )
        uow.commit()
    return len(snapshots)


def take(store: Store, zone: ZoneInfo, day: date, route: Router | None = None) -> int:
    return write(store, compute(store, zone, day, route))


def router(strategies: StrategySet) -> Router:
    """The strategy name a segment × risk class routes to ("none" when no strategy applies)."""

    def route(segment: str, risk: str) -> str:
        found = strategies.routes.get((segment, risk))
        return found.name if found is not None else "none"

    return route


def history(store: Store, currency: str, start: date, end: date, dimension: str = "all") -> list[Snapshot]:
    cur = check_currency(currency)
    if dimension not in DIMENSIONS:
        raise ValidationFailed(f"dimension {dimension!r}: one of {', '.join(DIMENSIONS)}", "by")
    if end < start:
        raise ValidationFailed("the period ends before it starts", "to")
    if (end - start).days > 3660:
        raise ValidationFailed("at most ten years of history at once", "from")
    with read_only(store) as uow:
        rows = uow.select(
            "SELECT business_date, key, figures FROM kpi_snapshot WHERE currency = $c AND dimension = $m "
            "AND business_date >= $s AND business_date <= $e ORDER BY business_date, key",
            {"c": cur, "m": dimension, "s": start, "e": end},
        )
    return [
        Snapshot(_as_date(d), cur, dimension, str(k), dict(f) if isinstance(f, dict) else _json(f)) for d, k, f in rows
    ]


def latest(store: Store) -> list[Snapshot]:
    """Every row of the newest snapshot day (for the Prometheus gauges)."""
    with read_only(store) as uow:
        found = uow.select("SELECT MAX(business_date) FROM kpi_snapshot")
        if not found or found[0] is None:
            return []
        day = _as_date(found[0])
        rows = uow.select(
            "SELECT currency, dimension, key, figures FROM kpi_snapshot WHERE business_date = $d", {"d": day}
        )
    return [Snapshot(day, str(c), str(m), str(k), dict(f) if isinstance(f, dict) else _json(f)) for c, m, k, f in rows]


def _json(value: Any) -> dict[str, Any]:
    return dict(json.loads(value))
